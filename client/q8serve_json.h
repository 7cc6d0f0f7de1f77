// The --json form of q8serve.v1 responses: every field, keys spelled as in
// the proto, compact one-line JSON. Scripts read this form; the tables of
// graph_listing.h and signature_listing.h are for people and may change.
#ifndef Q8SERVE_CLIENT_Q8SERVE_JSON_H_
#define Q8SERVE_CLIENT_Q8SERVE_JSON_H_

#include <string>

#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

// Unset quant messages are null, so "not quantized" cannot be mistaken for
// quantization with default parameters.
std::string SignatureToJson(const q8serve::v1::GetSignatureResponse& signature);

// As above; a tensor whose shape is unknown (has_shape false) has "shape": null.
std::string GraphToJson(const q8serve::v1::GetGraphResponse& graph);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_Q8SERVE_JSON_H_
