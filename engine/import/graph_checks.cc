#include "engine/import/graph_checks.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace q8::engine {
namespace {

bool IsOnnx(const ir::Node& n, const char* op) {
  return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx");
}

// ---------------------------------------------------------------------------------------
// Attribute kinds. The IR keeps an attribute as the kind the file gave it, and look-ups
// of another kind fall back to the default (ir::Node::GetInt etc.): an INT "pads" would
// silently mean no padding. These are the ONNX kinds of the attributes the kernels read.

// Index into ir::Attribute's alternatives.
enum Kind { kInt = 0, kFloat = 1, kString = 2, kInts = 3, kFloats = 4, kStrings = 5 };
constexpr const char* kKindNames[] = {"INT", "FLOAT", "STRING", "INTS", "FLOATS", "STRINGS"};

const std::map<std::string, Kind>& OnnxAttributeKinds() {
  static const auto* kinds = new std::map<std::string, Kind>{
      {"axis", kInt},
      {"group", kInt},
      {"transA", kInt},
      {"transB", kInt},
      {"keepdims", kInt},
      {"ceil_mode", kInt},
      {"count_include_pad", kInt},
      {"storage_order", kInt},
      {"to", kInt},
      {"allowzero", kInt},
      {"alpha", kFloat},
      {"beta", kFloat},
      {"epsilon", kFloat},
      {"min", kFloat},
      {"max", kFloat},
      {"kernel_shape", kInts},
      {"strides", kInts},
      {"pads", kInts},
      {"dilations", kInts},
      {"perm", kInts},
      {"axes", kInts},
      {"split", kInts},
      {"auto_pad", kString},
  };
  return *kinds;
}

// ---------------------------------------------------------------------------------------
// Arity. Passes and kernels index inputs and outputs by position (a pattern's x is input
// 0, a QLinearConv's y_scale input 6), so a node with fewer than its op defines must stop
// here. One pattern per op the engine runs, from the ONNX (and com.microsoft) operator
// definitions: per input slot 'R' required (a non-empty name), 'o' optional ("" or absent);
// a trailing '*' repeats the last slot any number of times (variadic).

struct Arity {
  const char* inputs;
  int min_outputs = 1, max_outputs = 1;  // max -1: any number
};

const std::map<std::string, Arity>& OpArities() {
  static const auto* arities = new std::map<std::string, Arity>{
      // clang-format off
      {"Add", {"RR"}}, {"Sub", {"RR"}}, {"Mul", {"RR"}}, {"Div", {"RR"}}, {"Pow", {"RR"}},
      {"MatMul", {"RR"}}, {"Reshape", {"RR"}},
      {"AveragePool", {"R"}}, {"Cast", {"R"}}, {"Erf", {"R"}}, {"Flatten", {"R"}},
      {"GlobalAveragePool", {"R"}}, {"GlobalMaxPool", {"R"}}, {"Identity", {"R"}},
      {"Relu", {"R"}}, {"Shape", {"R"}}, {"Sigmoid", {"R"}}, {"Softmax", {"R"}},
      {"Sqrt", {"R"}}, {"Tanh", {"R"}}, {"Transpose", {"R"}},
      {"Clip", {"Roo"}}, {"Concat", {"R*"}}, {"Conv", {"RRo"}}, {"Gemm", {"RRo"}},
      {"ConvInteger", {"RRoo"}}, {"MatMulInteger", {"RRoo"}},
      {"QuantizeLinear", {"RRo"}}, {"DequantizeLinear", {"RRo"}},
      {"DynamicQuantizeLinear", {"R", 3, 3}},
      {"LayerNormalization", {"RRo", 1, 3}},
      {"MaxPool", {"R", 1, 2}},
      {"ReduceMean", {"Ro"}}, {"Split", {"Ro", 1, -1}}, {"Squeeze", {"Ro"}}, {"Unsqueeze", {"Ro"}},
      {"QLinearConv", {"RRRRRRRRo"}}, {"QLinearMatMul", {"RRRRRRRR"}},
      {"com.microsoft.QLinearAdd", {"RRoRRoRo"}}, {"com.microsoft.QLinearMul", {"RRoRRoRo"}},
      {"com.microsoft.QLinearGlobalAveragePool", {"RRoRo"}},
      // clang-format on
  };
  return *arities;
}

// ---------------------------------------------------------------------------------------
// Quantized operands: which inputs of each quantized op are a tensor, its scale and its
// zero point (ONNX and com.microsoft operator definitions, input names as they spell them).

enum class Role {
  kQuantized,  // the tensor is stored quantized: it has its zero point's type
  kReal,       // the float side (QuantizeLinear's x)
};
enum class AxisRule {
  kPerTensor,  // scalar parameters only
  kAttribute,  // per-axis along the node's "axis" attribute (default 1)
  kFixed,      // per-axis along a fixed axis of the tensor (negative: from the end)
};
constexpr int kOutput0 = -1;  // the operand is the node's first output
constexpr int kNone = -1;     // no scale (ConvInteger, MatMulInteger)

struct Operand {
  int tensor;  // input index, or kOutput0
  const char* tensor_name;
  int scale;  // input index, or kNone
  const char* scale_name;
  int zero_point;  // input index
  const char* zero_point_name;
  Role role;
  AxisRule axis = AxisRule::kPerTensor;
  int fixed_axis = 0;
};

struct QuantizedOp {
  const char* domain;
  const char* op_type;
  std::vector<Operand> operands;
  // Zero points must have the shape of their scale (QuantizeLinear / DequantizeLinear);
  // elsewhere each parameter is independently a scalar or one value per channel.
  bool zero_point_shaped_as_scale = false;
  bool int32_zero_point = false;  // DequantizeLinear of int32 (a bias)
};

const std::vector<QuantizedOp>& QuantizedOps() {
  using R = Role;
  using A = AxisRule;
  static const auto* ops = new std::vector<QuantizedOp>{
      // clang-format off
      {"", "QuantizeLinear",
       {{0, "x", 1, "y_scale", 2, "y_zero_point", R::kReal, A::kAttribute}}, true, false},
      {"", "DequantizeLinear",
       {{0, "x", 1, "x_scale", 2, "x_zero_point", R::kQuantized, A::kAttribute}}, true, true},
      {"", "QLinearConv",
       {{0, "x", 1, "x_scale", 2, "x_zero_point", R::kQuantized},
        {3, "w", 4, "w_scale", 5, "w_zero_point", R::kQuantized, A::kFixed, 0},
        {kOutput0, "y", 6, "y_scale", 7, "y_zero_point", R::kQuantized}}},
      {"", "QLinearMatMul",
       {{0, "a", 1, "a_scale", 2, "a_zero_point", R::kQuantized},
        {3, "b", 4, "b_scale", 5, "b_zero_point", R::kQuantized, A::kFixed, -1},
        {kOutput0, "y", 6, "y_scale", 7, "y_zero_point", R::kQuantized}}},
      {"", "ConvInteger",
       {{0, "x", kNone, "", 2, "x_zero_point", R::kQuantized},
        {1, "w", kNone, "", 3, "w_zero_point", R::kQuantized, A::kFixed, 0}}},
      {"", "MatMulInteger",
       {{0, "A", kNone, "", 2, "a_zero_point", R::kQuantized, A::kFixed, -2},
        {1, "B", kNone, "", 3, "b_zero_point", R::kQuantized, A::kFixed, -1}}},
      {"com.microsoft", "QLinearAdd",
       {{0, "A", 1, "A_scale", 2, "A_zero_point", R::kQuantized},
        {3, "B", 4, "B_scale", 5, "B_zero_point", R::kQuantized},
        {kOutput0, "C", 6, "C_scale", 7, "C_zero_point", R::kQuantized}}},
      {"com.microsoft", "QLinearMul",
       {{0, "A", 1, "A_scale", 2, "A_zero_point", R::kQuantized},
        {3, "B", 4, "B_scale", 5, "B_zero_point", R::kQuantized},
        {kOutput0, "C", 6, "C_scale", 7, "C_zero_point", R::kQuantized}}},
      {"com.microsoft", "QLinearGlobalAveragePool",
       {{0, "X", 1, "x_scale", 2, "x_zero_point", R::kQuantized},
        {kOutput0, "Y", 3, "y_scale", 4, "y_zero_point", R::kQuantized}}},
      // clang-format on
  };
  return *ops;
}

const QuantizedOp* FindQuantizedOp(const ir::Node& n) {
  for (const QuantizedOp& op : QuantizedOps()) {
    const bool domain = std::string(op.domain).empty() ? (n.domain.empty() || n.domain == "ai.onnx")
                                                       : n.domain == op.domain;
    if (domain && n.op_type == op.op_type) return &op;
  }
  return nullptr;
}

// Ops that compute in float only (their ONNX type constraints admit no 8-bit integers):
// an int8 tensor reaching one is a weight or activation the graph forgot to dequantize,
// or one it declares float while the file holds int8.
bool ComputesInFloat(const ir::Node& n) {
  for (const char* op :
       {"Conv", "ConvTranspose", "Gemm", "MatMul", "AveragePool", "GlobalAveragePool", "Softmax",
        "LayerNormalization", "Sigmoid", "Tanh", "BatchNormalization"}) {
    if (IsOnnx(n, op)) return true;
  }
  return false;
}

// Ops whose outputs have the type of their first input.
bool KeepsType(const ir::Node& n) {
  for (const char* op : {"Identity", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze",
                         "MaxPool", "Slice", "Gather", "Split", "Relu", "Pad", "Clip"}) {
    if (IsOnnx(n, op)) return true;
  }
  return false;
}

bool Is8Bit(DType t) { return t == DType::kUint8 || t == DType::kInt8; }

std::string Quoted(const std::string& s) { return absl::StrCat("'", s, "'"); }

// ---------------------------------------------------------------------------------------

class GraphChecker {
 public:
  explicit GraphChecker(const ir::Graph& g) : g_(g) {
    for (const auto& [name, t] : g.constants) {
      types_[name] = t->dtype();
      shapes_[name] = t->shape();
    }
    for (const auto& in : g.inputs) {
      types_[in.name] = in.dtype;
      if (in.shape) shapes_[in.name] = *in.shape;
    }
  }

  absl::Status Run() {
    for (const ir::Node& n : g_.nodes) {
      where_ = absl::StrCat("node '", n.name, "' (", n.op_type, ")");
      if (auto s = CheckArity(n); !s.ok()) return s;
      if (auto s = CheckAttributeKinds(n); !s.ok()) return s;
      if (const QuantizedOp* op = FindQuantizedOp(n)) {
        for (const Operand& operand : op->operands) {
          if (auto s = CheckOperand(n, *op, operand); !s.ok()) return s;
        }
        if (IsOnnx(n, "QLinearConv")) {
          if (auto s = CheckQLinearConvBias(n); !s.ok()) return s;
        }
      }
      if (ComputesInFloat(n)) {
        if (auto s = CheckFloatInputs(n); !s.ok()) return s;
      }
      if (auto s = InferOutputTypes(n); !s.ok()) return s;
    }
    for (const auto& out : g_.outputs) {
      const DType produced = Produced(out.name);
      if (out.dtype != DType::kUnknown && produced != DType::kUnknown && produced != out.dtype) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph output '", out.name, "' is declared ", DTypeName(out.dtype),
                         ", but ", ProducerText(out.name), " makes it ", DTypeName(produced),
                         "; the declaration must say what the graph computes"));
      }
    }
    return absl::OkStatus();
  }

 private:
  // The type the graph gives `value`: from the file's data or graph inputs, from the op
  // producing it, or else from value_info. kUnknown when none says.
  DType TypeOf(const std::string& value) const {
    if (auto it = types_.find(value); it != types_.end()) return it->second;
    if (auto it = g_.value_info.find(value); it != g_.value_info.end()) return it->second.dtype;
    return DType::kUnknown;
  }
  // Known by data, graph input or producing op (not by declaration alone).
  DType Produced(const std::string& value) const {
    auto it = types_.find(value);
    return it == types_.end() ? DType::kUnknown : it->second;
  }
  const Shape* ShapeOf(const std::string& value) const {
    if (auto it = shapes_.find(value); it != shapes_.end()) return &it->second;
    if (auto it = g_.value_info.find(value); it != g_.value_info.end() && it->second.shape) {
      return &*it->second.shape;
    }
    return nullptr;
  }
  std::string ProducerText(const std::string& value) const {
    if (g_.FindConstant(value)) return "its initializer";
    for (const auto& in : g_.inputs) {
      if (in.name == value) return "the graph input";
    }
    for (const auto& n : g_.nodes) {
      for (const auto& out : n.outputs) {
        if (out == value) return absl::StrCat("node '", n.name, "' (", n.op_type, ")");
      }
    }
    return "the graph";
  }
  // " (declared in value_info)" etc.: where a type the checks hold against a node came from.
  std::string TypeSource(const std::string& value) const {
    if (g_.FindConstant(value)) return "";
    for (const auto& in : g_.inputs) {
      if (in.name == value) return absl::StrCat(" (graph input '", value, "' is declared so)");
    }
    if (!types_.count(value) && g_.value_info.count(value)) return " (as value_info declares it)";
    return absl::StrCat(" (made by ", ProducerText(value), ")");
  }

  absl::Status Invalid(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", what));
  }

  absl::Status CheckArity(const ir::Node& n) const {
    const std::string key = n.domain.empty() || n.domain == "ai.onnx"
                                ? n.op_type
                                : absl::StrCat(n.domain, ".", n.op_type);
    auto it = OpArities().find(key);
    if (it == OpArities().end()) return absl::OkStatus();  // compiling it will say more
    const std::string pattern = it->second.inputs;
    const bool variadic = !pattern.empty() && pattern.back() == '*';
    const std::string slots = variadic ? pattern.substr(0, pattern.size() - 1) : pattern;
    size_t required = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i] == 'R') required = i + 1;
    }
    const size_t max_inputs = variadic ? SIZE_MAX : slots.size();
    auto expected = [&] {
      return variadic                   ? absl::StrCat("at least ", required)
             : required == slots.size() ? absl::StrCat(required)
                                        : absl::StrCat(required, " to ", slots.size());
    };
    if (n.inputs.size() < required || n.inputs.size() > max_inputs) {
      return Invalid(
          absl::StrCat("has ", n.inputs.size(), " inputs; ", n.op_type, " takes ", expected()));
    }
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const char slot = i < slots.size() ? slots[i] : slots.back();
      if (slot == 'R' && n.inputs[i].empty()) {
        return Invalid(absl::StrCat("input #", i, " is empty, but ", n.op_type,
                                    " requires it (inputs: ", expected(), ")"));
      }
    }
    const int outputs = static_cast<int>(n.outputs.size());
    const int min_out = it->second.min_outputs, max_out = it->second.max_outputs;
    if (outputs < min_out || (max_out >= 0 && outputs > max_out)) {
      return Invalid(absl::StrCat("has ", outputs, " outputs; ", n.op_type, " has ",
                                  max_out < 0          ? absl::StrCat("at least ", min_out)
                                  : min_out == max_out ? absl::StrCat(min_out)
                                                       : absl::StrCat(min_out, " to ", max_out)));
    }
    for (int i = 0; i < min_out && i < outputs; ++i) {
      if (n.outputs[static_cast<size_t>(i)].empty()) {
        return Invalid(
            absl::StrCat("output #", i, " has no name, but ", n.op_type, " always produces it"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckAttributeKinds(const ir::Node& n) const {
    if (!n.domain.empty() && n.domain != "ai.onnx") return absl::OkStatus();
    const auto& kinds = OnnxAttributeKinds();
    for (const auto& [name, value] : n.attrs) {
      auto it = kinds.find(name);
      if (it == kinds.end() || static_cast<int>(value.index()) == it->second) continue;
      return Invalid(absl::StrCat("attribute '", name, "' is ", kKindNames[value.index()],
                                  "; ONNX defines it as ", kKindNames[it->second]));
    }
    return absl::OkStatus();
  }

  // Scale: float32, scalar or 1-D, every value finite and > 0.
  absl::Status CheckScale(const Operand& o, const std::string& name) const {
    const Tensor* s = g_.FindConstant(name);
    if (s == nullptr) {
      const DType t = TypeOf(name);
      if (t != DType::kUnknown && t != DType::kFloat32) {
        return Invalid(absl::StrCat(o.scale_name, " ", Quoted(name), " is ", DTypeName(t),
                                    TypeSource(name), "; scales are float32"));
      }
      return absl::OkStatus();
    }
    if (s->dtype() != DType::kFloat32) {
      return Invalid(absl::StrCat(o.scale_name, " ", Quoted(name), " is ", DTypeName(s->dtype()),
                                  "; scales are float32"));
    }
    if (s->shape().size() > 1 || s->num_elements() == 0) {
      return Invalid(absl::StrCat(o.scale_name, " ", Quoted(name), " has shape ",
                                  ShapeToString(s->shape()),
                                  "; a scale is a scalar or 1-D (one value per channel), "
                                  "with at least one value"));
    }
    const float* v = s->data_as<float>();
    for (int64_t i = 0; i < s->num_elements(); ++i) {
      if (std::isfinite(v[i]) && v[i] > 0.f) continue;
      return Invalid(
          absl::StrCat(o.scale_name, " ", Quoted(name),
                       s->num_elements() == 1 ? "" : absl::StrCat(" element ", i), " is ", v[i],
                       "; scales must be finite and positive (real = scale · (q - zero_point))"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckOperand(const ir::Node& n, const QuantizedOp& op, const Operand& o) const {
    const std::string tensor = o.tensor == kOutput0
                                   ? (n.outputs.empty() ? std::string() : n.outputs[0])
                                   : n.Input(static_cast<size_t>(o.tensor));
    const std::string& scale_name = o.scale == kNone ? std::string() : n.Input(o.scale);
    if (o.scale != kNone && scale_name.empty()) {
      return Invalid(absl::StrCat(o.scale_name, " (input #", o.scale, ") is missing; ", n.op_type,
                                  " needs the scale of ", o.tensor_name));
    }
    if (o.scale != kNone) {
      if (auto s = CheckScale(o, scale_name); !s.ok()) return s;
    }

    // Zero point: uint8 / int8 (int32 for DequantizeLinear), scalar or 1-D, and shaped as
    // the scale where the op says so.
    const std::string& zp_name = n.Input(static_cast<size_t>(o.zero_point));
    const Tensor* zp = zp_name.empty() ? nullptr : g_.FindConstant(zp_name);
    const DType zp_type = zp_name.empty() ? DType::kUnknown : TypeOf(zp_name);
    const char* valid_zp =
        op.int32_zero_point ? "uint8, int8, or int32 (for int32 x)" : "uint8 or int8";
    if (zp_type != DType::kUnknown && !Is8Bit(zp_type) &&
        !(op.int32_zero_point && zp_type == DType::kInt32)) {
      return Invalid(absl::StrCat(o.zero_point_name, " ", Quoted(zp_name), " is ",
                                  DTypeName(zp_type), TypeSource(zp_name), "; zero points are ",
                                  valid_zp));
    }
    const Tensor* scale = scale_name.empty() ? nullptr : g_.FindConstant(scale_name);
    if (zp != nullptr) {
      if (zp->shape().size() > 1 || zp->num_elements() == 0) {
        return Invalid(absl::StrCat(o.zero_point_name, " ", Quoted(zp_name), " has shape ",
                                    ShapeToString(zp->shape()),
                                    "; a zero point is a scalar or 1-D, with at least one value"));
      }
      if (op.zero_point_shaped_as_scale && scale != nullptr &&
          zp->num_elements() != scale->num_elements()) {
        return Invalid(absl::StrCat(o.zero_point_name, " ", Quoted(zp_name), " has shape ",
                                    ShapeToString(zp->shape()), " but ", o.scale_name, " ",
                                    Quoted(scale_name), " has shape ",
                                    ShapeToString(scale->shape()),
                                    "; they must have the same shape (one zero point per scale)"));
      }
    }

    // The tensor: float32 on the real side; on the quantized side 8-bit (or int32 where
    // allowed) and of its zero point's type.
    const DType t = tensor.empty() || o.tensor == kOutput0 ? DType::kUnknown : TypeOf(tensor);
    if (o.role == Role::kReal && t != DType::kUnknown && t != DType::kFloat32) {
      const std::string what = absl::StrCat(o.tensor_name, " ", Quoted(tensor), " is ",
                                            DTypeName(t), TypeSource(tensor));
      if (t == DType::kInt32) {
        return absl::UnimplementedError(
            absl::StrCat(where_, ": ", what, "; the engine quantizes float32 only"));
      }
      return Invalid(absl::StrCat(what, "; ", n.op_type, " quantizes float32"));
    }
    if (o.role == Role::kQuantized && t != DType::kUnknown) {
      if (!Is8Bit(t) && !(op.int32_zero_point && t == DType::kInt32)) {
        return Invalid(absl::StrCat(o.tensor_name, " ", Quoted(tensor), " is ", DTypeName(t),
                                    TypeSource(tensor), "; ", n.op_type, " takes ",
                                    op.int32_zero_point ? "uint8, int8 or int32" : "uint8 or int8",
                                    " (an int8 tensor, not its float value)"));
      }
      if (zp_type != DType::kUnknown && zp_type != t) {
        return Invalid(absl::StrCat(o.zero_point_name, " ", Quoted(zp_name), " is ",
                                    DTypeName(zp_type), " but ", o.tensor_name, " ", Quoted(tensor),
                                    " is ", DTypeName(t), TypeSource(tensor),
                                    "; a zero point has the type of the tensor it describes"));
      }
    }

    // Per-axis parameters.
    const int64_t scale_count = scale ? scale->num_elements() : 1;
    const int64_t zp_count = zp ? zp->num_elements() : 1;
    if (scale_count <= 1 && zp_count <= 1) return absl::OkStatus();
    const bool scale_per_axis = scale_count > 1;
    const std::string& param = scale_per_axis ? scale_name : zp_name;
    const char* param_name = scale_per_axis ? o.scale_name : o.zero_point_name;
    const Shape& param_shape = scale_per_axis ? scale->shape() : zp->shape();
    if (o.axis == AxisRule::kPerTensor) {
      return Invalid(absl::StrCat(param_name, " ", Quoted(param), " has shape ",
                                  ShapeToString(param_shape), "; ", n.op_type,
                                  " takes a scalar (per-tensor) ", param_name));
    }
    const int64_t axis = o.axis == AxisRule::kFixed ? o.fixed_axis : n.GetInt("axis", 1);
    const Shape* shape = tensor.empty() || o.tensor == kOutput0 ? nullptr : ShapeOf(tensor);
    if (shape == nullptr) return absl::OkStatus();  // rank known at run time only
    const int64_t rank = static_cast<int64_t>(shape->size());
    if (axis < -rank || axis >= rank) {
      return Invalid(absl::StrCat(
          o.axis == AxisRule::kAttribute ? "axis " : "the per-channel axis ", axis,
          " is out of range for ", o.tensor_name, " ", Quoted(tensor), " of rank ", rank,
          rank > 0 ? absl::StrCat(" (valid: ", -rank, "..", rank - 1, ")") : std::string(),
          "; per-channel ", param_name, " ", Quoted(param), " needs it"));
    }
    const int64_t a = axis < 0 ? axis + rank : axis;
    const int64_t dim = (*shape)[static_cast<size_t>(a)];
    if (dim < 0) return absl::OkStatus();
    for (const auto& [count, name, label] :
         {std::make_tuple(scale_count, scale_name, o.scale_name),
          std::make_tuple(zp_count, zp_name, o.zero_point_name)}) {
      if (name.empty() || count <= 1 || count == dim) continue;
      return Invalid(absl::StrCat(label, " ", Quoted(name), " has ", count, " values, but axis ", a,
                                  " of ", o.tensor_name, " ", Quoted(tensor), " ",
                                  ShapeToString(*shape), " has ", dim,
                                  " (per-channel parameters have one value per element along "
                                  "the axis)"));
    }
    return absl::OkStatus();
  }

  // QLinearConv's optional bias B: int32, in the accumulator's scale x_scale·w_scale, one
  // value per output channel.
  absl::Status CheckQLinearConvBias(const ir::Node& n) const {
    const std::string& b = n.Input(8);
    if (b.empty()) return absl::OkStatus();
    const DType t = TypeOf(b);
    if (t != DType::kUnknown && t != DType::kInt32) {
      return Invalid(absl::StrCat("B ", Quoted(b), " is ", DTypeName(t), TypeSource(b),
                                  "; QLinearConv's bias is int32 (in the accumulator's scale, "
                                  "x_scale·w_scale)"));
    }
    const Tensor* bias = g_.FindConstant(b);
    const Tensor* w = g_.FindConstant(n.Input(3));
    if (bias && w && !w->shape().empty() &&
        (bias->shape().size() != 1 || bias->num_elements() != w->shape()[0])) {
      return Invalid(absl::StrCat("B ", Quoted(b), " has shape ", ShapeToString(bias->shape()),
                                  "; QLinearConv's bias is 1-D with one value per output "
                                  "channel (M = ",
                                  w->shape()[0], ")"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckFloatInputs(const ir::Node& n) const {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::string& in = n.inputs[i];
      if (in.empty()) continue;
      const DType t = TypeOf(in);
      if (!Is8Bit(t)) continue;
      return Invalid(absl::StrCat(
          "input #", i, " ", Quoted(in), " is ", DTypeName(t), TypeSource(in), ", but ", n.op_type,
          " computes in float32: a quantized tensor reaches it through a "
          "DequantizeLinear (or the graph uses QLinearConv / QLinearMatMul / ConvInteger / "
          "MatMulInteger)"));
    }
    return absl::OkStatus();
  }

  // The output types the op fixes, checked against value_info where it declares them.
  absl::Status InferOutputTypes(const ir::Node& n) {
    std::vector<DType> out(n.outputs.size(), DType::kUnknown);
    auto zp_type = [&](size_t input) {
      return n.Input(input).empty() ? DType::kUint8 : TypeOf(n.Input(input));
    };
    if (out.empty()) return absl::OkStatus();
    if (IsOnnx(n, "QuantizeLinear")) {
      out[0] = zp_type(2);
    } else if (IsOnnx(n, "DequantizeLinear")) {
      out[0] = DType::kFloat32;
    } else if (IsOnnx(n, "QLinearConv") || IsOnnx(n, "QLinearMatMul") ||
               (n.domain == "com.microsoft" &&
                (n.op_type == "QLinearAdd" || n.op_type == "QLinearMul"))) {
      out[0] = zp_type(7);
    } else if (n.domain == "com.microsoft" && n.op_type == "QLinearGlobalAveragePool") {
      out[0] = zp_type(4);
    } else if (IsOnnx(n, "DynamicQuantizeLinear")) {
      const DType types[] = {DType::kUint8, DType::kFloat32, DType::kUint8};
      for (size_t i = 0; i < out.size() && i < 3; ++i) out[i] = types[i];
    } else if (IsOnnx(n, "MatMulInteger") || IsOnnx(n, "ConvInteger")) {
      out[0] = DType::kInt32;
    } else if (IsOnnx(n, "Shape")) {
      out[0] = DType::kInt64;
    } else if (KeepsType(n)) {
      const DType t = TypeOf(n.Input(0));
      out[0] = t;
      if (IsOnnx(n, "Split")) out.assign(out.size(), t);
    } else if (ComputesInFloat(n) && TypeOf(n.Input(0)) == DType::kFloat32) {
      out[0] = DType::kFloat32;
    }
    for (size_t i = 0; i < out.size(); ++i) {
      const std::string& name = n.outputs[i];
      if (name.empty() || out[i] == DType::kUnknown) continue;
      if (auto vi = g_.value_info.find(name); vi != g_.value_info.end() &&
                                              vi->second.dtype != DType::kUnknown &&
                                              vi->second.dtype != out[i]) {
        return Invalid(absl::StrCat("output ", Quoted(name), " is ", DTypeName(out[i]),
                                    ", but value_info declares it ", DTypeName(vi->second.dtype),
                                    "; the declaration must say what the graph computes"));
      }
      types_[name] = out[i];
    }
    return absl::OkStatus();
  }

  const ir::Graph& g_;
  std::unordered_map<std::string, DType> types_;
  std::unordered_map<std::string, Shape> shapes_;
  std::string where_;  // the node being checked, for messages
};

}  // namespace

absl::Status CheckImportedGraph(const ir::Graph& graph) { return GraphChecker(graph).Run(); }

}  // namespace q8::engine
