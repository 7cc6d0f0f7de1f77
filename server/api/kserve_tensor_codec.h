// KServe v2 (Triton) tensors <-> engine tensors, for the GRPCInferenceService API.
//
// An input carries its values either as one entry of the request's raw_input_contents
// (little-endian bytes, row-major, what Triton's clients send) or in the typed
// `contents` field of its datatype; never both. KServe has no broadcast: typed contents
// must have exactly one value per element. Outputs are always written as
// raw_output_contents, as Triton does.
//
// Stateless and thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "kserve/grpc_service.pb.h"

namespace q8::server {

// "FP32" → kFloat32, "UINT8", "INT8", "INT32", "INT64", "BOOL". INVALID_ARGUMENT (listing
// the supported datatypes) for others; `what` names the tensor in the message.
absl::StatusOr<engine::DType> DTypeFromKServe(absl::string_view datatype, absl::string_view what);
// "" for kUnknown.
absl::string_view DTypeToKServe(engine::DType dtype);

// Decodes one request input. `raw` is its raw_input_contents entry, or null when the
// request uses typed contents. INVALID_ARGUMENT naming the input, datatype and the
// expected byte/element count when sizes disagree.
absl::StatusOr<engine::Tensor> DecodeInferInput(
    const inference::ModelInferRequest::InferInputTensor& input, const std::string* raw);

// Fills name/datatype/shape of `out` and writes the bytes to `raw`.
absl::Status EncodeInferOutput(absl::string_view name, const engine::Tensor& tensor,
                               inference::ModelInferResponse::InferOutputTensor* out,
                               std::string* raw);

}  // namespace q8::server
