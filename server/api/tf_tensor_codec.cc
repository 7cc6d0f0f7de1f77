#include "server/api/tf_tensor_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "server/api/codec_util.h"

namespace q8::server {
namespace {

// tensor_content is little-endian; copying it verbatim is only right on such a host.
static_assert(std::endian::native == std::endian::little,
              "tensor_content decoding assumes a little-endian host");

constexpr absl::string_view kSupported = "DT_FLOAT, DT_UINT8, DT_INT8, DT_INT32, DT_INT64, DT_BOOL";

std::string Describe(absl::string_view name, tensorflow::DataType dtype,
                     absl::Span<const int64_t> shape) {
  return absl::StrCat("Input '", name, "' (", tensorflow::DataType_Name(dtype), ", shape ",
                      engine::ShapeToString(shape), ")");
}

// Copies `values` (count n, or 1 to broadcast) into `out` as T, range-checking the
// narrowing from the wire type W.
template <typename T, typename Values>
absl::Status FillTyped(const Values& values, absl::string_view field, int64_t n,
                       const std::string& describe, T* out) {
  const int64_t count = values.size();
  if (count != n && !(count == 1 && n > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(describe, ": ", field, " has ", count, " values; expected ", n,
                     " (one per element) or 1 (broadcast to the whole shape), or the values as ",
                     n * static_cast<int64_t>(sizeof(T)), " bytes of tensor_content"));
  }
  using W = std::decay_t<decltype(values.Get(0))>;
  for (int64_t i = 0; i < count; ++i) {
    const W v = values.Get(static_cast<int>(i));
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, W>) {
      if (v < static_cast<W>(std::numeric_limits<T>::min()) ||
          v > static_cast<W>(std::numeric_limits<T>::max())) {
        return absl::InvalidArgumentError(absl::StrCat(describe, ": ", field, "[", i, "] = ", v,
                                                       " is out of range for the dtype"));
      }
    }
    out[i] = static_cast<T>(v);
  }
  if (count == 1) std::fill_n(out, n, out[0]);  // TF's broadcast rule
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<engine::DType> DTypeFromTf(tensorflow::DataType dtype, absl::string_view what) {
  switch (dtype) {
    case tensorflow::DT_FLOAT:
      return engine::DType::kFloat32;
    case tensorflow::DT_UINT8:
      return engine::DType::kUint8;
    case tensorflow::DT_INT8:
      return engine::DType::kInt8;
    case tensorflow::DT_INT32:
      return engine::DType::kInt32;
    case tensorflow::DT_INT64:
      return engine::DType::kInt64;
    case tensorflow::DT_BOOL:
      return engine::DType::kBool;
    default:
      break;
  }
  const std::string name = tensorflow::DataType_IsValid(dtype)
                               ? tensorflow::DataType_Name(dtype)
                               : absl::StrCat("dtype ", static_cast<int>(dtype));
  return absl::InvalidArgumentError(
      absl::StrCat(what, " has unsupported dtype ", name, "; supported: ", kSupported));
}

tensorflow::DataType DTypeToTf(engine::DType dtype) {
  switch (dtype) {
    case engine::DType::kFloat32:
      return tensorflow::DT_FLOAT;
    case engine::DType::kUint8:
      return tensorflow::DT_UINT8;
    case engine::DType::kInt8:
      return tensorflow::DT_INT8;
    case engine::DType::kInt32:
      return tensorflow::DT_INT32;
    case engine::DType::kInt64:
      return tensorflow::DT_INT64;
    case engine::DType::kBool:
      return tensorflow::DT_BOOL;
    case engine::DType::kUnknown:
      break;
  }
  return tensorflow::DT_INVALID;
}

void ShapeToTf(absl::Span<const int64_t> shape, tensorflow::TensorShapeProto* out) {
  out->Clear();
  for (int64_t d : shape) out->add_dim()->set_size(d);
}

absl::StatusOr<engine::Tensor> DecodeTensorProto(absl::string_view name,
                                                 const tensorflow::TensorProto& proto) {
  absl::StatusOr<engine::DType> dtype =
      DTypeFromTf(proto.dtype(), absl::StrCat("Input '", name, "'"));
  if (!dtype.ok()) return dtype.status();
  if (proto.tensor_shape().unknown_rank()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Input '", name, "' has an unknown rank; send its tensor_shape"));
  }
  engine::Shape shape;
  for (const auto& dim : proto.tensor_shape().dim()) shape.push_back(dim.size());
  absl::StatusOr<int64_t> n = CheckedNumElements(name, *dtype, shape);
  if (!n.ok()) return n.status();
  const std::string describe = Describe(name, proto.dtype(), shape);

  engine::Tensor tensor(*dtype, shape);
  if (!proto.tensor_content().empty()) {
    // TF takes tensor_content over typed values when both are set; so do we.
    const size_t want = tensor.byte_size();
    if (proto.tensor_content().size() != want) {
      return absl::InvalidArgumentError(absl::StrCat(
          describe, ": tensor_content has ", proto.tensor_content().size(), " bytes; expected ",
          want, " (", *n, " elements of ", engine::DTypeSize(*dtype), " bytes)"));
    }
    // Copied into the engine's 64-byte aligned buffer: protobuf strings carry no
    // alignment guarantee, and kernels read floats in place.
    if (want > 0) std::memcpy(tensor.data(), proto.tensor_content().data(), want);
    return tensor;
  }

  absl::Status status;
  switch (*dtype) {
    case engine::DType::kFloat32:
      status = FillTyped(proto.float_val(), "float_val", *n, describe, tensor.data_as<float>());
      break;
    case engine::DType::kUint8:
      status = FillTyped(proto.int_val(), "int_val", *n, describe, tensor.data_as<uint8_t>());
      break;
    case engine::DType::kInt8:
      status = FillTyped(proto.int_val(), "int_val", *n, describe, tensor.data_as<int8_t>());
      break;
    case engine::DType::kInt32:
      status = FillTyped(proto.int_val(), "int_val", *n, describe, tensor.data_as<int32_t>());
      break;
    case engine::DType::kInt64:
      status = FillTyped(proto.int64_val(), "int64_val", *n, describe, tensor.data_as<int64_t>());
      break;
    case engine::DType::kBool:
      status = FillTyped(proto.bool_val(), "bool_val", *n, describe, tensor.data_as<bool>());
      break;
    case engine::DType::kUnknown:
      status = absl::InternalError("unreachable: unknown dtype after DTypeFromTf");
      break;
  }
  if (!status.ok()) return status;
  return tensor;
}

absl::Status EncodeTensorProto(const engine::Tensor& tensor, tensorflow::TensorProto* out) {
  const tensorflow::DataType dtype = DTypeToTf(tensor.dtype());
  if (dtype == tensorflow::DT_INVALID) {
    return absl::InternalError(absl::StrCat("cannot encode a ",
                                            std::string(engine::DTypeName(tensor.dtype())),
                                            " tensor as a TensorProto"));
  }
  out->Clear();
  out->set_dtype(dtype);
  ShapeToTf(tensor.shape(), out->mutable_tensor_shape());
  if (tensor.byte_size() > 0) {
    out->set_tensor_content(static_cast<const char*>(tensor.data()), tensor.byte_size());
  }
  return absl::OkStatus();
}

}  // namespace q8::server
