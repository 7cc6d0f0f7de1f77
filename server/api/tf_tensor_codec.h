// TensorFlow TensorProto <-> engine tensors, for the TF Serving API.
//
// Requests may carry values either as `tensor_content` (raw little-endian bytes, what
// TF's own clients send) or in the typed repeated field of their dtype (float_val,
// int_val, int64_val, bool_val). TF's rule applies to typed values: exactly one value
// broadcasts to the whole shape. Unlike TF, a count that is neither 1 nor the element
// count is an error rather than padded with the last value: silent padding hides
// client bugs. Responses always use tensor_content.
//
// Stateless and thread-safe.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/framework/tensor_shape.pb.h"
#include "tensorflow/core/framework/types.pb.h"

namespace q8::server {

// DT_FLOAT → kFloat32, DT_UINT8, DT_INT8, DT_INT32, DT_INT64, DT_BOOL. INVALID_ARGUMENT
// (listing the supported types) for any other; `what` names the tensor in the message.
absl::StatusOr<engine::DType> DTypeFromTf(tensorflow::DataType dtype, absl::string_view what);
// DT_INVALID for kUnknown.
tensorflow::DataType DTypeToTf(engine::DType dtype);

// Shape with -1 kept for run-time dims (metadata).
void ShapeToTf(absl::Span<const int64_t> shape, tensorflow::TensorShapeProto* out);

// Decodes request input `name`. INVALID_ARGUMENT naming the input, its dtype and the
// expected byte or element count when the values do not fit the shape.
absl::StatusOr<engine::Tensor> DecodeTensorProto(absl::string_view name,
                                                 const tensorflow::TensorProto& proto);

// Encodes `tensor` with dtype, shape and tensor_content. INTERNAL for a dtype TF lacks.
absl::Status EncodeTensorProto(const engine::Tensor& tensor, tensorflow::TensorProto* out);

}  // namespace q8::server
