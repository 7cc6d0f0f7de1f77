// q8serve.v1 responses built in code, shaped like what the server sends for
// the digits model, shared by the listing and JSON tests of q8c.
#ifndef Q8SERVE_TESTS_CLIENT_Q8SERVE_RESPONSES_H_
#define Q8SERVE_TESTS_CLIENT_Q8SERVE_RESPONSES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

// Per-tensor quantization with one scale and zero point.
q8serve::v1::QuantParams PerTensorQuant(float scale, int64_t zero_point,
                                        const std::string& storage_dtype);

// Appends a tensor with a known shape.
q8serve::v1::GraphTensor* AddTensor(q8serve::v1::GetGraphResponse& graph, const std::string& name,
                                    const std::string& dtype, const std::vector<int64_t>& shape,
                                    const std::string& producer_op);

// A slice of the digits graph (5 of 23 tensors, 2 of 9 nodes): the float
// input (IN), its quantized form, per-channel weights (64 scales), a tensor
// with no dtype or shape, the float output (OUT); a named QuantizeLinear
// and an unnamed QLinearMatMul with an omitted ("") input.
q8serve::v1::GetGraphResponse DigitsGraphSlice();

// serving_default of digits: input "images" quantized float32→uint8, output
// "probabilities" dequantized int8→float32, output "raw" int8 as is (no
// explanation).
q8serve::v1::GetSignatureResponse DigitsSignature();

}  // namespace q8::client

#endif  // Q8SERVE_TESTS_CLIENT_Q8SERVE_RESPONSES_H_
