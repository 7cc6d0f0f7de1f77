#include "server/api/kserve_tensor_codec.h"

#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "server/api/codec_util.h"

namespace q8::server {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw_input_contents decoding assumes a little-endian host");

constexpr absl::string_view kSupported = "FP32, UINT8, INT8, INT32, INT64, BOOL";

bool HasAnyContents(const inference::InferTensorContents& c) {
  return c.bool_contents_size() > 0 || c.int_contents_size() > 0 || c.int64_contents_size() > 0 ||
         c.uint_contents_size() > 0 || c.uint64_contents_size() > 0 || c.fp32_contents_size() > 0 ||
         c.fp64_contents_size() > 0 || c.bytes_contents_size() > 0;
}

template <typename T, typename Values>
absl::Status FillTyped(const Values& values, absl::string_view field, int64_t n,
                       const std::string& describe, T* out) {
  if (static_cast<int64_t>(values.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(describe, ": contents.", field, " has ",
                                                   values.size(), " values; expected ", n,
                                                   " (one per element)"));
  }
  using W = std::decay_t<decltype(values.Get(0))>;
  for (int64_t i = 0; i < n; ++i) {
    const W v = values.Get(static_cast<int>(i));
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, W>) {
      if (v < static_cast<W>(std::numeric_limits<T>::min()) ||
          v > static_cast<W>(std::numeric_limits<T>::max())) {
        return absl::InvalidArgumentError(
            absl::StrCat(describe, ": contents.", field, "[", i, "] = ", v, " is out of range"));
      }
    }
    out[i] = static_cast<T>(v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<engine::DType> DTypeFromKServe(absl::string_view datatype, absl::string_view what) {
  if (datatype == "FP32") return engine::DType::kFloat32;
  if (datatype == "UINT8") return engine::DType::kUint8;
  if (datatype == "INT8") return engine::DType::kInt8;
  if (datatype == "INT32") return engine::DType::kInt32;
  if (datatype == "INT64") return engine::DType::kInt64;
  if (datatype == "BOOL") return engine::DType::kBool;
  return absl::InvalidArgumentError(
      absl::StrCat(what, " has unsupported datatype '", datatype, "'; supported: ", kSupported));
}

absl::string_view DTypeToKServe(engine::DType dtype) {
  switch (dtype) {
    case engine::DType::kFloat32:
      return "FP32";
    case engine::DType::kUint8:
      return "UINT8";
    case engine::DType::kInt8:
      return "INT8";
    case engine::DType::kInt32:
      return "INT32";
    case engine::DType::kInt64:
      return "INT64";
    case engine::DType::kBool:
      return "BOOL";
    case engine::DType::kUnknown:
      break;
  }
  return "";
}

absl::StatusOr<engine::Tensor> DecodeInferInput(
    const inference::ModelInferRequest::InferInputTensor& input, const std::string* raw) {
  const std::string& name = input.name();
  absl::StatusOr<engine::DType> dtype =
      DTypeFromKServe(input.datatype(), absl::StrCat("Input '", name, "'"));
  if (!dtype.ok()) return dtype.status();
  engine::Shape shape(input.shape().begin(), input.shape().end());
  absl::StatusOr<int64_t> n = CheckedNumElements(name, *dtype, shape);
  if (!n.ok()) return n.status();
  const std::string describe = absl::StrCat("Input '", name, "' (", input.datatype(), ", shape ",
                                            engine::ShapeToString(shape), ")");
  engine::Tensor tensor(*dtype, shape);

  if (raw != nullptr) {
    if (HasAnyContents(input.contents())) {
      return absl::InvalidArgumentError(
          absl::StrCat(describe, ": has both typed contents and raw_input_contents; send one"));
    }
    const size_t want = tensor.byte_size();
    if (raw->size() != want) {
      return absl::InvalidArgumentError(
          absl::StrCat(describe, ": raw_input_contents has ", raw->size(), " bytes; expected ",
                       want, " (", *n, " elements of ", engine::DTypeSize(*dtype), " bytes)"));
    }
    // Copied: protobuf bytes have no alignment guarantee and kernels read in place.
    if (want > 0) std::memcpy(tensor.data(), raw->data(), want);
    return tensor;
  }

  const inference::InferTensorContents& c = input.contents();
  absl::Status status;
  switch (*dtype) {
    case engine::DType::kFloat32:
      status = FillTyped(c.fp32_contents(), "fp32_contents", *n, describe, tensor.data_as<float>());
      break;
    case engine::DType::kUint8:
      status =
          FillTyped(c.uint_contents(), "uint_contents", *n, describe, tensor.data_as<uint8_t>());
      break;
    case engine::DType::kInt8:
      status = FillTyped(c.int_contents(), "int_contents", *n, describe, tensor.data_as<int8_t>());
      break;
    case engine::DType::kInt32:
      status = FillTyped(c.int_contents(), "int_contents", *n, describe, tensor.data_as<int32_t>());
      break;
    case engine::DType::kInt64:
      status =
          FillTyped(c.int64_contents(), "int64_contents", *n, describe, tensor.data_as<int64_t>());
      break;
    case engine::DType::kBool:
      status = FillTyped(c.bool_contents(), "bool_contents", *n, describe, tensor.data_as<bool>());
      break;
    case engine::DType::kUnknown:
      status = absl::InternalError("unreachable: unknown dtype after DTypeFromKServe");
      break;
  }
  if (!status.ok()) return status;
  return tensor;
}

absl::Status EncodeInferOutput(absl::string_view name, const engine::Tensor& tensor,
                               inference::ModelInferResponse::InferOutputTensor* out,
                               std::string* raw) {
  const absl::string_view datatype = DTypeToKServe(tensor.dtype());
  if (datatype.empty()) {
    return absl::InternalError(absl::StrCat("output '", name, "' has dtype ",
                                            std::string(engine::DTypeName(tensor.dtype())),
                                            ", which KServe cannot carry"));
  }
  out->set_name(std::string(name));
  out->set_datatype(std::string(datatype));
  for (int64_t d : tensor.shape()) out->add_shape(d);
  if (tensor.byte_size() > 0) {
    raw->assign(static_cast<const char*>(tensor.data()), tensor.byte_size());
  } else {
    raw->clear();
  }
  return absl::OkStatus();
}

}  // namespace q8::server
