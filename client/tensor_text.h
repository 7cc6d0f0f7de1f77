// Short text spellings of a tensor's shape and quantization, shared by the
// `q8c graph` and `q8c signature` listings so both read the same way.
#ifndef Q8SERVE_CLIENT_TENSOR_TEXT_H_
#define Q8SERVE_CLIENT_TENSOR_TEXT_H_

#include <cstdint>
#include <string>

#include "google/protobuf/repeated_field.h"
#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

// "[?,28,28]": dynamic (negative) dimensions print as "?"; "[]" is a scalar.
std::string FormatShape(const google::protobuf::RepeatedField<int64_t>& shape);

// A scale with 4 significant digits ("0.003922", "1.5e-05"): enough to tell
// scales apart at a glance; --json has the exact values.
std::string FormatScale(float scale);

// The parameters without the storage type: "s=0.003922 z=0" per tensor,
// "per-axis(0) ×64" per channel (64 scales along axis 0, too many to list).
// A missing zero point is 0, the affine default.
std::string FormatQuantParams(const q8serve::v1::QuantParams& quant);

// FormatQuantParams preceded by the storage type when known:
// "uint8 s=0.003922 z=0", "int8 per-axis(0) ×64".
std::string FormatQuant(const q8serve::v1::QuantParams& quant);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_TENSOR_TEXT_H_
