// Folds QDQ MatMuls of two activations (attention scores Q·Kᵀ, context P·V) into the
// internal int8 op q8.QMatMul (kernels/qmatmul_kernel.cc):
//
//   a_q ─DQ─┐
//            MatMul ─[Mul(const α)]─[QuantizeLinear]─►  y_q (or float y)
//   b_q ─DQ─┘
//        ⇒  a_q, b_q ─ q8.QMatMul(α, scales, zero points) ─► y_q (or y)
//
//   y = α · s_a · s_b · Σ_k (a_q - z_a)(b_q - z_b),   y_q = sat(round(y / s_y) + z_y)
//
// Requirements: both DQs per-tensor with constant parameters, b not a constant (constant
// int8 weights are FoldQdqMatMul's), α a one-element float constant. Run after
// FoldQdqMatMul.
//
// When b_q is uint8 and comes from a QuantizeLinear or a requantizing q8.QGemm (through
// data movement only) that nothing else reads, it is made to emit int8 with zero point z_b - 128:
// sat_s8(round(x/s) + z_b - 128) = sat_u8(round(x/s) + z_b) - 128 exactly, which is the
// s8 operand oneDNN needs, so the kernel does not shift b at run time.
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

bool PerTensor(const ir::Graph& g, const QdqMatch& m) {
  const Tensor* s = g.FindConstant(m.scale);
  const Tensor* z = m.zero_point.empty() ? nullptr : g.FindConstant(m.zero_point);
  return s && s->num_elements() == 1 && (m.zero_point.empty() || (z && z->num_elements() == 1));
}

// Index of the zero-point input of a node that quantizes its output per-tensor with a
// constant zero point: QuantizeLinear (2) or a fused q8.QGemm (7); -1 for anything else.
int OutputZeroPointInput(const ir::Graph& g, int node) {
  if (MatchPerTensorQ(g, node)) return 2;
  const ir::Node& n = g.nodes[node];
  if (n.domain == "q8" && n.op_type == "QGemm" && !n.Input(7).empty()) return 7;
  return -1;
}

// Retypes the uint8 quantizing producer behind `b_q` (a QuantizeLinear or a QGemm with
// fused requantization) to int8 (see the file comment); returns the new zero-point
// constant's name, or "" when the pattern does not allow it.
std::string RetypeToInt8(ir::Graph& g, const std::string& b_q, const std::string& dq_zp) {
  std::string value = b_q;
  int p = g.ProducerOf(value);
  while (p >= 0 && OutputZeroPointInput(g, p) < 0) {
    const ir::Node& n = g.nodes[p];
    const bool movement = IsOnnxOp(n, "Reshape") || IsOnnxOp(n, "Transpose") ||
                          IsOnnxOp(n, "Squeeze") || IsOnnxOp(n, "Unsqueeze");
    if (!movement || SoleConsumer(g, value) < 0) return "";
    value = n.Input(0);
    p = g.ProducerOf(value);
  }
  if (p < 0 || SoleConsumer(g, value) < 0) return "";
  const int zp_input = OutputZeroPointInput(g, p);
  const std::string zp_name = g.nodes[p].Input(zp_input);
  const Tensor* z = g.FindConstant(zp_name);
  const Tensor* dz = g.FindConstant(dq_zp);
  if (!z || !dz || z->dtype() != DType::kUint8 || z != dz || z->num_elements() != 1) return "";
  Tensor shifted(DType::kInt8, z->shape());
  shifted.data_as<int8_t>()[0] = static_cast<int8_t>(z->data_as<uint8_t>()[0] - 128);
  const std::string name = zp_name + ":int8";
  g.constants[name] = std::make_shared<const Tensor>(std::move(shifted));
  g.nodes[p].inputs[zp_input] = name;
  return name;
}

std::optional<ir::Node> TryFoldAct(ir::Graph& g, int mm, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[mm];
  auto a = MatchConstParamDq(g, op.Input(0));
  auto b = MatchConstParamDq(g, op.Input(1));
  if (!a || !b || g.FindConstant(b->q_value) || !PerTensor(g, *a) || !PerTensor(g, *b)) {
    return std::nullopt;
  }
  ir::Node q = InternalNode("QMatMul", op.name);
  q.inputs = {a->q_value, a->scale, a->zero_point, b->q_value, b->scale, b->zero_point};
  std::string out = op.outputs[0];
  std::vector<int> absorbed{mm};
  int next = SoleConsumer(g, out);
  if (next >= 0 && IsOnnxOp(g.nodes[next], "Mul")) {
    const ir::Node& mul = g.nodes[next];
    const std::string c = mul.Input(0) == out ? mul.Input(1) : mul.Input(0);
    const Tensor* alpha = g.FindConstant(c);
    if (alpha && alpha->dtype() == DType::kFloat32 && alpha->num_elements() == 1) {
      q.attrs["alpha"] = alpha->data_as<float>()[0];
      absorbed.push_back(next);
      out = mul.outputs[0];
      next = SoleConsumer(g, out);
    }
  }
  if (auto y = MatchPerTensorQ(g, next)) {
    q.inputs.push_back(y->scale);
    q.inputs.push_back(y->zero_point);
    absorbed.push_back(next);
    out = g.nodes[next].outputs[0];
  }
  // Only now that the fold is certain: let b's producer emit int8 when it can.
  if (const Tensor* zb = g.FindConstant(b->zero_point); zb && zb->dtype() == DType::kUint8 &&
                                                          SoleConsumer(g, b->q_value) >= 0 &&
                                                          SoleConsumer(g, op.Input(1)) == mm) {
    if (std::string z8 = RetypeToInt8(g, b->q_value, b->zero_point); !z8.empty()) q.inputs[5] = z8;
  }
  q.outputs = {out};
  for (int n : absorbed) erase[n] = true;
  return q;
}

}  // namespace

absl::Status FoldQdqMatMulAct(ir::Graph& graph) {
  FoldMatches(graph, {"MatMul"}, TryFoldAct);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
