// HostTensor <-> wire tensors of the two serving APIs.
//   TF Serving: tensorflow.TensorProto. Requests use tensor_content (raw
//   little-endian bytes, as TF's own clients send); responses may use either
//   tensor_content or the typed *_val fields, and both are decoded.
//   KServe v2: inference.* tensors, datatype strings ("FP32", "INT8", ...);
//   raw_*_contents or typed InferTensorContents.
// Stateless; thread-safe.
#ifndef Q8SERVE_CLIENT_TENSOR_CODEC_H_
#define Q8SERVE_CLIENT_TENSOR_CODEC_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/host_tensor.h"
#include "kserve/grpc_service.pb.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/framework/types.pb.h"

namespace q8::client {

// numpy dtype <-> TF DataType / KServe datatype. Unknown -> nullopt/empty.
std::optional<tensorflow::DataType> DTypeToTf(absl::string_view dtype);
std::string TfToDType(tensorflow::DataType dt);
std::string DTypeToKServe(absl::string_view dtype);
std::string KServeToDType(absl::string_view datatype);

// Fails only for dtypes TensorProto cannot carry.
absl::StatusOr<tensorflow::TensorProto> ToTensorProto(const HostTensor& t);

// `what` names the tensor in errors. Unknown rank and string tensors are
// rejected (q8serve never produces them).
absl::StatusOr<HostTensor> FromTensorProto(const tensorflow::TensorProto& p,
                                           absl::string_view what);

// Fills name/datatype/shape of `out`; returns the raw bytes that go into
// raw_input_contents at the same index.
absl::StatusOr<std::string> ToKServeInput(absl::string_view name, const HostTensor& t,
                                          inference::ModelInferRequest::InferInputTensor& out);

// `raw` is the matching raw_output_contents entry, or nullptr when the
// response uses typed contents.
absl::StatusOr<HostTensor> FromKServeOutput(
    const inference::ModelInferResponse::InferOutputTensor& out, const std::string* raw);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_TENSOR_CODEC_H_
