#include "client/tensor_codec.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace q8::client {
namespace {

// Both wire formats define raw bytes as little-endian; q8c copies host
// memory directly, which is only right on little-endian hosts.
static_assert(std::endian::native == std::endian::little, "q8c assumes a little-endian host");

struct DTypeRow {
  absl::string_view numpy;
  tensorflow::DataType tf;
  absl::string_view kserve;
};
constexpr DTypeRow kRows[] = {
    {"bool", tensorflow::DT_BOOL, "BOOL"},       {"int8", tensorflow::DT_INT8, "INT8"},
    {"uint8", tensorflow::DT_UINT8, "UINT8"},    {"int16", tensorflow::DT_INT16, "INT16"},
    {"uint16", tensorflow::DT_UINT16, "UINT16"}, {"int32", tensorflow::DT_INT32, "INT32"},
    {"uint32", tensorflow::DT_UINT32, "UINT32"}, {"int64", tensorflow::DT_INT64, "INT64"},
    {"uint64", tensorflow::DT_UINT64, "UINT64"}, {"float16", tensorflow::DT_HALF, "FP16"},
    {"float32", tensorflow::DT_FLOAT, "FP32"},   {"float64", tensorflow::DT_DOUBLE, "FP64"},
};

template <typename T, typename Repeated>
std::string PackAs(const Repeated& values) {
  std::string out(values.size() * sizeof(T), '\0');
  for (int i = 0; i < values.size(); ++i) {
    const T v = static_cast<T>(values.Get(i));
    std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
  }
  return out;
}

// Picks the typed field matching `dtype` and packs it as raw bytes.
// Returns the number of values found through `count`.
std::string PackTfVals(const tensorflow::TensorProto& p, absl::string_view dt, int& count) {
  auto pack = [&count](const auto& field, auto tag) {
    using T = decltype(tag);
    count = field.size();
    return PackAs<T>(field);
  };
  if (dt == "float32") return pack(p.float_val(), float{});
  if (dt == "float64") return pack(p.double_val(), double{});
  if (dt == "int32") return pack(p.int_val(), int32_t{});
  if (dt == "int16") return pack(p.int_val(), int16_t{});
  if (dt == "int8") return pack(p.int_val(), int8_t{});
  if (dt == "uint8") return pack(p.int_val(), uint8_t{});
  if (dt == "uint16") return pack(p.int_val(), uint16_t{});
  if (dt == "int64") return pack(p.int64_val(), int64_t{});
  if (dt == "uint32") return pack(p.uint32_val(), uint32_t{});
  if (dt == "uint64") return pack(p.uint64_val(), uint64_t{});
  if (dt == "bool") return pack(p.bool_val(), uint8_t{});
  if (dt == "float16") return pack(p.half_val(), uint16_t{});  // raw bits
  count = 0;
  return "";
}

std::string PackKServeContents(const inference::InferTensorContents& c, absl::string_view dt,
                               int& count) {
  auto pack = [&count](const auto& field, auto tag) {
    using T = decltype(tag);
    count = field.size();
    return PackAs<T>(field);
  };
  if (dt == "float32") return pack(c.fp32_contents(), float{});
  if (dt == "float64") return pack(c.fp64_contents(), double{});
  if (dt == "int32") return pack(c.int_contents(), int32_t{});
  if (dt == "int16") return pack(c.int_contents(), int16_t{});
  if (dt == "int8") return pack(c.int_contents(), int8_t{});
  if (dt == "int64") return pack(c.int64_contents(), int64_t{});
  if (dt == "uint8") return pack(c.uint_contents(), uint8_t{});
  if (dt == "uint16") return pack(c.uint_contents(), uint16_t{});
  if (dt == "uint32") return pack(c.uint_contents(), uint32_t{});
  if (dt == "uint64") return pack(c.uint64_contents(), uint64_t{});
  if (dt == "bool") return pack(c.bool_contents(), uint8_t{});
  count = 0;  // FP16 has no typed field in KServe.
  return "";
}

}  // namespace

std::optional<tensorflow::DataType> DTypeToTf(absl::string_view dtype) {
  for (const DTypeRow& r : kRows) {
    if (r.numpy == dtype) return r.tf;
  }
  return std::nullopt;
}

std::string TfToDType(tensorflow::DataType dt) {
  for (const DTypeRow& r : kRows) {
    if (r.tf == dt) return std::string(r.numpy);
  }
  return "";
}

std::string DTypeToKServe(absl::string_view dtype) {
  for (const DTypeRow& r : kRows) {
    if (r.numpy == dtype) return std::string(r.kserve);
  }
  return "";
}

std::string KServeToDType(absl::string_view datatype) {
  for (const DTypeRow& r : kRows) {
    if (r.kserve == datatype) return std::string(r.numpy);
  }
  return "";
}

absl::StatusOr<tensorflow::TensorProto> ToTensorProto(const HostTensor& t) {
  std::optional<tensorflow::DataType> dt = DTypeToTf(t.dtype);
  if (!dt) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype ", t.dtype, " has no TensorFlow equivalent"));
  }
  tensorflow::TensorProto p;
  p.set_dtype(*dt);
  for (int64_t d : t.shape) p.mutable_tensor_shape()->add_dim()->set_size(d);
  p.set_tensor_content(t.data);
  return p;
}

absl::StatusOr<HostTensor> FromTensorProto(const tensorflow::TensorProto& p,
                                           absl::string_view what) {
  HostTensor t;
  t.dtype = TfToDType(p.dtype());
  if (t.dtype.empty()) {
    return absl::UnimplementedError(absl::StrCat(what, ": cannot decode dtype ",
                                                 tensorflow::DataType_Name(p.dtype()), " (",
                                                 static_cast<int>(p.dtype()), ")"));
  }
  if (p.tensor_shape().unknown_rank()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": shape has unknown rank"));
  }
  for (const auto& d : p.tensor_shape().dim()) t.shape.push_back(d.size());
  absl::StatusOr<int64_t> n = NumElements(t.shape);
  if (!n.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", n.status().message()));
  const size_t size = *DTypeSize(t.dtype);

  if (!p.tensor_content().empty() || *n == 0) {
    t.data = p.tensor_content();
  } else {
    int count = 0;
    t.data = PackTfVals(p, t.dtype, count);
    // TensorProto version 0 semantics: a single value fills the whole shape
    // (how TF encodes constant tensors compactly).
    if (count == 1 && *n > 1) {
      const std::string one = t.data;
      t.data.clear();
      t.data.reserve(static_cast<size_t>(*n) * size);
      for (int64_t i = 0; i < *n; ++i) t.data += one;
    }
  }
  absl::Status st = CheckHostTensor(t, what);
  if (!st.ok()) return st;
  return t;
}

absl::StatusOr<std::string> ToKServeInput(absl::string_view name, const HostTensor& t,
                                          inference::ModelInferRequest::InferInputTensor& out) {
  const std::string datatype = DTypeToKServe(t.dtype);
  if (datatype.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": dtype ", t.dtype, " has no KServe equivalent"));
  }
  out.set_name(std::string(name));
  out.set_datatype(datatype);
  for (int64_t d : t.shape) out.add_shape(d);
  return t.data;
}

absl::StatusOr<HostTensor> FromKServeOutput(
    const inference::ModelInferResponse::InferOutputTensor& out, const std::string* raw) {
  HostTensor t;
  t.dtype = KServeToDType(out.datatype());
  if (t.dtype.empty()) {
    return absl::UnimplementedError(
        absl::StrCat(out.name(), ": cannot decode datatype '", out.datatype(), "'"));
  }
  t.shape.assign(out.shape().begin(), out.shape().end());
  if (raw != nullptr) {
    t.data = *raw;
  } else {
    int count = 0;
    t.data = PackKServeContents(out.contents(), t.dtype, count);
  }
  absl::Status st = CheckHostTensor(t, out.name());
  if (!st.ok()) return st;
  return t;
}

}  // namespace q8::client
