// FoldTfliteInt8: the QDQ chains the TFLite importer marks quant_arithmetic = "tflite" →
// TFLite's integer kernels (kernels/tflite_int8_kernels.cc, arithmetic in
// quant/tflite_arith.h):
//
//   a_q ─DQ─┐
//            Add | Sub | Mul ─[Relu | Clip]─ Q ─► y_q  ⇒  q8.TfliteAdd (subtract) | q8.TfliteMul
//   b_q ─DQ─┘
//   x_q ─DQ─ AveragePool ─[Relu | Clip]─ Q ─► y_q     ⇒  q8.TfliteAveragePool (same params)
//   x_q ─DQ─ GlobalAveragePool ─ Q ─► y_q              ⇒  q8.TfliteMean
//   x_q ─DQ─ Identity ─ Q ─► y_q   (int8 QUANTIZE)     ⇒  q8.TfliteRequantize
//   x_q ─DQ─ ReduceMean ─ Q ─► y_q  (same params)      ⇒  q8.TfliteStoredMean
//
// Parameters per-tensor and constant. A chain whose scales TFLite's kernels would not take
// (the Make*Params range checks; TFLite then runs other kernels) keeps its float form, as
// does everything unmarked (ONNX and GraphDef graphs: their reference runtimes requantize
// in float).
#include <cmath>

#include "absl/status/status.h"
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"
#include "engine/quant/tflite_arith.h"

namespace q8::engine::passes {
namespace {

bool MarkedTflite(const ir::Node& n) { return n.GetString("quant_arithmetic", "") == "tflite"; }

// A per-tensor scale / zero point constant's value (0 for an omitted zero point).
float Scale(const ir::Graph& g, const std::string& name) {
  const Tensor* t = g.FindConstant(name);
  return t && t->dtype() == DType::kFloat32 ? t->data_as<float>()[0] : std::nanf("");
}
int32_t ZeroPoint(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.FindConstant(name);
  if (t == nullptr) return 0;
  return t->dtype() == DType::kInt8 ? t->data_as<int8_t>()[0]
                                    : static_cast<int32_t>(t->data_as<uint8_t>()[0]);
}

// The storage type a zero point gives its tensor (an omitted one: uint8).
DType Storage(const ir::Graph& g, const std::string& zero_point) {
  const Tensor* t = zero_point.empty() ? nullptr : g.FindConstant(zero_point);
  return t == nullptr ? DType::kUint8 : t->dtype();
}

// Whether TFLite's kernel takes these parameters (else TFLite runs another kernel, and the
// engine keeps the float form). inputs: x/a, [b], y (scale, zero point) pairs. The integer
// kernels take one storage type throughout: a uint8 → int8 QUANTIZE (or a mixed ADD) keeps
// its float form.
bool Accepted(const ir::Graph& g, const ir::Node& q) {
  const auto& in = q.inputs;
  for (size_t zp = 2; zp < in.size(); zp += 3) {
    if (Storage(g, in[zp]) != Storage(g, in.back())) return false;
  }
  const quant::tflite::OutputRange any;
  if (q.op_type == "TfliteAdd" || q.op_type == "TfliteMul") {
    const float sa = Scale(g, in[1]), sb = Scale(g, in[4]), sy = Scale(g, in[6]);
    const int32_t za = ZeroPoint(g, in[2]), zb = ZeroPoint(g, in[5]), zy = ZeroPoint(g, in[7]);
    return q.op_type == "TfliteAdd"
               ? quant::tflite::MakeAddParams(sa, za, sb, zb, sy, zy, false, any).has_value()
               : quant::tflite::MakeMulParams(sa, za, sb, zb, sy, zy, any).has_value();
  }
  const float sx = Scale(g, in[1]), sy = Scale(g, in[3]);
  const int32_t zx = ZeroPoint(g, in[2]), zy = ZeroPoint(g, in[4]);
  if (q.op_type == "TfliteMean") {
    return quant::tflite::MakeMeanParams(sx, zx, sy, zy, 1, any).has_value();
  }
  if (q.op_type == "TfliteRequantize") {
    return quant::tflite::MakeRequantizeParams(sx, zx, sy, zy, any).has_value();
  }
  // AVERAGE_POOL_2D averages stored values: input and output parameters must agree (TFLite
  // refuses the model otherwise). MEAN does only when they agree; otherwise its float
  // requantization is already TFLite's (quant/tflite_arith.h, StoredMean).
  return sx == sy && zx == zy;
}

// The static shape of a value when the graph records it (a constant, a graph input, or
// value_info); nullopt otherwise.
std::optional<Shape> KnownShape(const ir::Graph& g, const std::string& value) {
  if (const Tensor* t = g.FindConstant(value)) return t->shape();
  for (const ir::ValueInfo& in : g.inputs) {
    if (in.name == value) return in.shape;
  }
  if (auto it = g.value_info.find(value); it != g.value_info.end()) return it->second.shape;
  return std::nullopt;
}

// Absorbs an optional Relu / constant Clip after `out`, then the per-tensor QuantizeLinear
// that must follow; sets the fused node's y_scale / y_zero_point inputs (at `y_input`), its
// act_min / act_max attributes and its output. False (nothing marked) when the chain does
// not end in such a QuantizeLinear.
bool EndChain(const ir::Graph& g, std::string out, size_t y_input, ir::Node& fused,
              std::vector<bool>& erase, bool allow_activation = true) {
  int next = SoleConsumer(g, out);
  int activation = -1;
  if (allow_activation && next >= 0 && IsOnnxOp(g.nodes[next], "Relu")) {
    fused.attrs["act_min"] = 0.f;
    activation = next;
  } else if (allow_activation && next >= 0 && IsOnnxOp(g.nodes[next], "Clip")) {
    auto bounds = ClipBounds(g, g.nodes[next]);
    if (!bounds) return false;
    fused.attrs["act_min"] = bounds->first;
    fused.attrs["act_max"] = bounds->second;
    activation = next;
  }
  if (activation >= 0) next = SoleConsumer(g, g.nodes[activation].outputs[0]);
  auto y = MatchPerTensorQ(g, next);
  if (!y) return false;
  fused.inputs.resize(y_input + 2);
  fused.inputs[y_input] = y->scale;
  fused.inputs[y_input + 1] = y->zero_point;
  fused.outputs = {g.nodes[next].outputs[0]};
  if (activation >= 0) erase[activation] = true;
  erase[next] = true;
  return true;
}

std::optional<ir::Node> TryFoldBinary(ir::Graph& g, int index, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[index];
  if (!MarkedTflite(op)) return std::nullopt;
  auto a = MatchPerTensorDq(g, op.Input(0));
  auto b = MatchPerTensorDq(g, op.Input(1));
  if (!a || !b) return std::nullopt;
  // The integer kernels take equal shapes; a broadcasting op keeps its float form.
  const auto sa = KnownShape(g, a->q_value), sb = KnownShape(g, b->q_value);
  if (!sa || !sb || *sa != *sb) return std::nullopt;
  ir::Node q = InternalNode(op.op_type == "Mul" ? "TfliteMul" : "TfliteAdd", op.name);
  if (op.op_type == "Sub") q.attrs["subtract"] = int64_t{1};
  q.inputs = {a->q_value, a->scale, a->zero_point, b->q_value, b->scale, b->zero_point};
  std::vector<bool> marks = erase;
  if (!EndChain(g, op.outputs[0], 6, q, marks) || !Accepted(g, q)) return std::nullopt;
  erase = std::move(marks);
  erase[index] = true;
  return q;
}

std::optional<ir::Node> TryFoldUnary(ir::Graph& g, int index, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[index];
  if (!MarkedTflite(op)) return std::nullopt;
  auto x = MatchPerTensorDq(g, op.Input(0));
  if (!x) return std::nullopt;
  ir::Node q;
  if (op.op_type == "AveragePool") {
    q = InternalNode("TfliteAveragePool", op.name);
    q.attrs = op.attrs;
  } else if (op.op_type == "GlobalAveragePool") {
    q = InternalNode("TfliteMean", op.name);
  } else if (op.op_type == "ReduceMean") {
    q = InternalNode("TfliteStoredMean", op.name);
    q.attrs = op.attrs;
  } else {
    q = InternalNode("TfliteRequantize", op.name);
  }
  q.attrs.erase("quant_arithmetic");
  q.inputs = {x->q_value, x->scale, x->zero_point};
  std::vector<bool> marks = erase;
  const bool activation = op.op_type == "AveragePool";
  if (!EndChain(g, op.outputs[0], 3, q, marks, activation) || !Accepted(g, q)) {
    return std::nullopt;
  }
  erase = std::move(marks);
  erase[index] = true;
  return q;
}

}  // namespace

absl::Status FoldTfliteInt8(ir::Graph& graph) {
  FoldMatches(graph, {"Add", "Sub", "Mul"}, TryFoldBinary);
  FoldMatches(graph, {"AveragePool", "GlobalAveragePool", "Identity", "ReduceMean"},
              TryFoldUnary);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
