#include "engine/import/tflite_translator.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace q8::engine::tflite {

using tflite_fb::ActivationFunctionType;

Shape NhwcToNchw(const Shape& s) { return {s[0], s[3], s[1], s[2]}; }

std::string Translator::Where() const {
  return absl::StrCat(path_, ": operator #", op_index_, " (", op_name_, ")");
}

absl::Status Translator::Invalid(const std::string& what) const {
  return absl::InvalidArgumentError(absl::StrCat(Where(), ": ", what));
}

absl::Status Translator::Unimplemented(const std::string& what) const {
  return absl::UnimplementedError(absl::StrCat(Where(), ": ", what));
}

int Translator::Input(const tflite_fb::Operator& op, size_t i) {
  return op.inputs() && i < op.inputs()->size() ? op.inputs()->Get(static_cast<uint32_t>(i)) : -1;
}

int Translator::Output(const tflite_fb::Operator& op, size_t i) {
  return op.outputs() && i < op.outputs()->size() ? op.outputs()->Get(static_cast<uint32_t>(i))
                                                  : -1;
}

ir::Node& Translator::Emit(const std::string& op_type, std::vector<std::string> inputs,
                           std::vector<std::string> outputs, const std::string& domain) {
  ir::Node n;
  n.name = absl::StrCat(op_name_, "#", op_index_);
  if (node_count_ > 0) absl::StrAppend(&n.name, "/", node_count_);
  ++node_count_;
  n.op_type = op_type;
  n.domain = domain;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  graph_.nodes.push_back(std::move(n));
  return graph_.nodes.back();
}

std::string Translator::Fresh(const std::string& base) {
  int& n = fresh_[base];
  return n++ == 0 ? base : absl::StrCat(base, "#", n - 1);
}

std::string Translator::Constant(const std::string& name, Tensor value) {
  const std::string unique = Fresh(name);
  graph_.constants[unique] = std::make_shared<const Tensor>(std::move(value));
  return unique;
}

std::string Translator::Int64Constant(const std::string& name, const std::vector<int64_t>& v) {
  Tensor t(DType::kInt64, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.data_as<int64_t>());
  return Constant(name, std::move(t));
}

std::string Translator::FloatConstant(const std::string& name, const std::vector<float>& v) {
  Tensor t(DType::kFloat32, v.size() == 1 ? Shape{} : Shape{static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.data_as<float>());
  return Constant(name, std::move(t));
}

absl::StatusOr<std::string> Translator::Value(int index) {
  TfTensor& t = tensor(index);
  if (!t.value.empty()) return t.value;
  if (t.data != nullptr) {
    if (t.int16 || t.dtype == DType::kUnknown) {
      return Unimplemented(absl::StrCat("constant tensor '", t.name, "' has a type the engine ",
                                        "does not compute with here"));
    }
    Tensor value(t.dtype, t.shape);
    if (value.byte_size() != t.data_size) {
      return Invalid(absl::StrCat("constant tensor '", t.name, "' of shape ",
                                  ShapeToString(t.shape), " holds ", t.data_size, " bytes, needs ",
                                  value.byte_size()));
    }
    if (t.data_size > 0) std::memcpy(value.data(), t.data, t.data_size);
    t.value = Constant(t.name, std::move(value));
    return t.value;
  }
  if (!t.nchw_value.empty()) {
    t.value = Fresh(t.name);
    Emit("Transpose", {t.nchw_value}, {t.value}).attrs["perm"] = std::vector<int64_t>{0, 2, 3, 1};
    return t.value;
  }
  return Invalid(absl::StrCat("tensor #", index, " '", t.name,
                              "' is read before any operator writes it (operators out of order, "
                              "or a dangling index)"));
}

absl::StatusOr<std::string> Translator::NchwValue(int index) {
  TfTensor& t = tensor(index);
  if (!t.nchw_value.empty()) return t.nchw_value;
  if (t.shape.size() != 4) {
    return Invalid(absl::StrCat("tensor '", t.name, "' has shape ", ShapeToString(t.shape),
                                "; this operator needs a 4-D [N,H,W,C] tensor"));
  }
  auto v = Value(index);
  if (!v.ok()) return v.status();
  t.nchw_value = Fresh(absl::StrCat(t.name, ":nchw"));
  Emit("Transpose", {*v}, {t.nchw_value}).attrs["perm"] = std::vector<int64_t>{0, 3, 1, 2};
  return t.nchw_value;
}

std::string Translator::ScaleConstant(int index) {
  const TfTensor& t = tensor(index);
  const auto& s = t.quant->scales;
  Tensor c(DType::kFloat32, t.quant->axis ? Shape{static_cast<int64_t>(s.size())} : Shape{});
  std::copy(s.begin(), s.begin() + (t.quant->axis ? s.size() : 1), c.data_as<float>());
  return Constant(absl::StrCat(t.name, ":scale"), std::move(c));
}

std::string Translator::ZeroPointConstant(int index) {
  const TfTensor& t = tensor(index);
  const auto& z = t.quant->zero_points;
  const Shape shape = t.quant->axis ? Shape{static_cast<int64_t>(z.size())} : Shape{};
  Tensor c(t.dtype, shape);
  const size_t n = t.quant->axis ? z.size() : 1;
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::kInt8:
        c.data_as<int8_t>()[i] = static_cast<int8_t>(z[i]);
        break;
      case DType::kUint8:
        c.data_as<uint8_t>()[i] = static_cast<uint8_t>(z[i]);
        break;
      default:
        c.data_as<int32_t>()[i] = static_cast<int32_t>(z[i]);
        break;
    }
  }
  return Constant(absl::StrCat(t.name, ":zero_point"), std::move(c));
}

absl::StatusOr<std::string> Translator::Real(const std::string& value, int index,
                                             std::optional<int> axis) {
  const TfTensor& t = tensor(index);
  if (!t.quant) return value;
  if (t.dtype != DType::kInt8 && t.dtype != DType::kUint8 && t.dtype != DType::kInt32) {
    return Unimplemented(absl::StrCat("quantized tensor '", t.name, "' of type ",
                                      t.int16 ? "int16" : DTypeName(t.dtype),
                                      " (supported: int8, uint8, int32)"));
  }
  const std::string key = absl::StrCat(value, "|", axis ? *axis : -1);
  if (auto it = real_.find(key); it != real_.end()) return it->second;
  const std::string out = Fresh(absl::StrCat(value, ":real"));
  ir::Node& dq =
      Emit("DequantizeLinear", {value, ScaleConstant(index), ZeroPointConstant(index)}, {out});
  if (t.quant->axis) dq.attrs["axis"] = int64_t{axis ? *axis : *t.quant->axis};
  real_[key] = out;
  return out;
}

absl::StatusOr<std::string> Translator::RealValue(int t) {
  auto v = Value(t);
  if (!v.ok()) return v.status();
  return Real(*v, t);
}

absl::StatusOr<std::string> Translator::RealNchw(int t) {
  auto v = NchwValue(t);
  if (!v.ok()) return v.status();
  return Real(*v, t);
}

std::string Translator::FloatOutput(int index, ActivationFunctionType activation, bool nchw) {
  const TfTensor& t = tensor(index);
  const std::string base = nchw ? absl::StrCat(t.name, ":nchw") : t.name;
  if (!t.quant && activation == ActivationFunctionType::NONE) return Fresh(base);
  return Fresh(absl::StrCat(base, ":float"));
}

absl::Status Translator::FinishOutput(int index, const std::string& float_value,
                                      ActivationFunctionType activation, bool nchw) {
  TfTensor& t = tensor(index);
  std::string cur = float_value;
  const std::string base = nchw ? absl::StrCat(t.name, ":nchw") : t.name;
  auto next = [&](bool last) { return last ? Fresh(base) : Fresh(absl::StrCat(base, ":act")); };
  auto clip = [&](float lo, float hi, bool last) {
    const std::string out = next(last);
    Emit("Clip",
         {cur, FloatConstant(absl::StrCat(base, ":min"), {lo}),
          FloatConstant(absl::StrCat(base, ":max"), {hi})},
         {out});
    cur = out;
  };
  const bool last = !t.quant;
  switch (activation) {
    case ActivationFunctionType::NONE:
      break;
    case ActivationFunctionType::RELU: {
      const std::string out = next(last);
      Emit("Relu", {cur}, {out});
      cur = out;
      break;
    }
    case ActivationFunctionType::RELU6:
      clip(0.f, 6.f, last);
      break;
    case ActivationFunctionType::RELU_N1_TO_1:
      clip(-1.f, 1.f, last);
      break;
    case ActivationFunctionType::TANH: {
      const std::string out = next(last);
      Emit("Tanh", {cur}, {out});
      cur = out;
      break;
    }
    default:
      return Unimplemented(absl::StrCat("fused activation ",
                                        tflite_fb::EnumNameActivationFunctionType(activation),
                                        " (supported: NONE, RELU, RELU6, RELU_N1_TO_1, TANH)"));
  }
  if (t.quant) {
    if (t.quant->axis) {
      return Unimplemented(absl::StrCat("output tensor '", t.name,
                                        "' is quantized per channel; activations must be "
                                        "per-tensor"));
    }
    if (t.dtype != DType::kInt8 && t.dtype != DType::kUint8) {
      return Unimplemented(absl::StrCat("output tensor '", t.name, "' is quantized as ",
                                        t.int16 ? "int16" : DTypeName(t.dtype),
                                        " (supported: int8, uint8)"));
    }
    const std::string out = Fresh(base);
    Emit("QuantizeLinear", {cur, ScaleConstant(index), ZeroPointConstant(index)}, {out});
    cur = out;
  }
  (nchw ? t.nchw_value : t.value) = cur;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> Translator::ConstInts(int index) {
  if (index < 0) return Invalid("a required constant input is omitted");
  const TfTensor& t = tensor(index);
  if (t.data == nullptr || (t.dtype != DType::kInt32 && t.dtype != DType::kInt64)) {
    return Unimplemented(absl::StrCat("tensor '", t.name,
                                      "' must be a constant int32/int64 tensor (computed shapes "
                                      "and indices are not supported)"));
  }
  const size_t n = t.data_size / DTypeSize(t.dtype);
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == DType::kInt32) {
      int32_t x;
      std::memcpy(&x, t.data + 4 * i, 4);
      v[i] = x;
    } else {
      std::memcpy(&v[i], t.data + 8 * i, 8);
    }
  }
  return v;
}

absl::StatusOr<std::vector<float>> Translator::DequantizedConstant(int index) {
  const TfTensor& t = tensor(index);
  if (t.data == nullptr) {
    return Unimplemented(absl::StrCat("tensor '", t.name, "' must be a constant"));
  }
  const int64_t n = NumElements(t.shape);
  std::vector<float> out(static_cast<size_t>(n));
  if (t.dtype == DType::kFloat32 && !t.quant) {
    if (t.data_size != static_cast<size_t>(n) * 4) return Invalid("constant size mismatch");
    std::memcpy(out.data(), t.data, t.data_size);
    return out;
  }
  if (!t.quant || (t.dtype != DType::kInt8 && t.dtype != DType::kInt32)) {
    return Unimplemented(absl::StrCat("constant '", t.name, "' must be float32, or int8/int32 ",
                                      "with quantization parameters"));
  }
  const size_t width = DTypeSize(t.dtype);
  if (t.data_size != static_cast<size_t>(n) * width) return Invalid("constant size mismatch");
  // Channel of element i along `axis`: (i / inner) % dim.
  int64_t inner = 1, dim = 1;
  if (t.quant->axis) {
    dim = t.shape[static_cast<size_t>(*t.quant->axis)];
    for (size_t d = static_cast<size_t>(*t.quant->axis) + 1; d < t.shape.size(); ++d) {
      inner *= t.shape[d];
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = t.quant->axis ? static_cast<size_t>((i / inner) % dim) : 0;
    int32_t q;
    if (t.dtype == DType::kInt8) {
      q = static_cast<int8_t>(t.data[i]);
    } else {
      std::memcpy(&q, t.data + 4 * i, 4);
    }
    // real = scale · (q - zero_point)
    out[static_cast<size_t>(i)] =
        t.quant->scales[c] * static_cast<float>(q - t.quant->zero_points[c]);
  }
  return out;
}

}  // namespace q8::engine::tflite
