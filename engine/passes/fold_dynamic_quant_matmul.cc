// MatMulInteger with a constant int8 weight becomes q8.DynQGemm (oneDNN u8s8 matmul,
// kernels/dynamic_quant_kernels.cc); the float rescale that dynamic quantization puts
// after it is fused when it has onnxruntime's quantize_dynamic shape:
//
//   x ─ DynamicQuantizeLinear ─┬─ x_q ──┐
//                              ├─ z_x ──┼─ MatMulInteger(w_q) ─ Cast(float) ─┐
//                              └─ s_x ─ Mul(s_w) ───────────────────────── Mul ─[Add(b)]─[Relu]─► y
//     ⇒  x_q, z_x, s_x ─ q8.DynQGemm(w_q, s_w, b, relu) ─► y
//
//   y = relu(s_x · s_w[n] · Σ_k (x_q - z_x) · w_q[k][n] + b[n])
//
// Exact up to float rounding order: s_x·s_w[n] is formed first, as the graph does.
// Requirements: w_q a constant 2-D int8 tensor with zero zero points, s_w and b float
// constants of 1 or N values (b of N). Without the rescale chain the result stays int32.
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

const std::string& OtherOf(const ir::Node& n, const std::string& value) {
  return n.Input(0) == value ? n.Input(1) : n.Input(0);
}

// The rescale after MatMulInteger node `mi`: Cast(float) → Mul(·, s_x · s_w), with s_x the
// DynamicQuantizeLinear scale of its x_q and s_w a float constant of 1 or N values.
struct Rescale {
  std::string s_x, s_w, out;
  std::vector<int> nodes;  // Cast, Mul, and the Mul forming s_x · s_w
};

std::optional<Rescale> MatchRescale(const ir::Graph& g, const ir::Node& op, int64_t N) {
  const int dql = g.ProducerOf(op.Input(0));
  const int cast = SoleConsumer(g, op.outputs[0]);
  if (dql < 0 || !IsOnnxOp(g.nodes[dql], "DynamicQuantizeLinear") ||
      g.nodes[dql].outputs.size() < 2 || cast < 0 || !IsOnnxOp(g.nodes[cast], "Cast") ||
      g.nodes[cast].GetInt("to", 0) != 1 /* FLOAT */) {
    return std::nullopt;
  }
  const std::string& s_x = g.nodes[dql].outputs[1];
  const std::string& cast_out = g.nodes[cast].outputs[0];
  const int mul = SoleConsumer(g, cast_out);
  if (mul < 0 || !IsOnnxOp(g.nodes[mul], "Mul")) return std::nullopt;
  const std::string& scales = OtherOf(g.nodes[mul], cast_out);
  const int scales_mul = g.ProducerOf(scales);
  if (scales_mul < 0 || !IsOnnxOp(g.nodes[scales_mul], "Mul") || SoleConsumer(g, scales) != mul) {
    return std::nullopt;
  }
  const ir::Node& sm = g.nodes[scales_mul];
  if (sm.Input(0) != s_x && sm.Input(1) != s_x) return std::nullopt;
  const Tensor* s_w = g.FindConstant(OtherOf(sm, s_x));
  if (!s_w || s_w->dtype() != DType::kFloat32 ||
      (s_w->num_elements() != 1 && s_w->num_elements() != N)) {
    return std::nullopt;
  }
  return Rescale{s_x, OtherOf(sm, s_x), g.nodes[mul].outputs[0], {cast, mul, scales_mul}};
}

std::optional<ir::Node> TryFoldDynamic(ir::Graph& g, int mi, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[mi];
  const Tensor* w = g.FindConstant(op.Input(1));
  if (!w || w->dtype() != DType::kInt8 || w->shape().size() != 2) return std::nullopt;
  if (!op.Input(3).empty() &&
      (!g.FindConstant(op.Input(3)) || !AllZero(g.FindConstant(op.Input(3))))) {
    return std::nullopt;
  }
  const int64_t N = w->shape()[1];
  ir::Node q = InternalNode("DynQGemm", op.name);
  q.inputs = {op.Input(0), op.Input(2), "", op.Input(1), "", ""};
  q.outputs = {op.outputs[0]};
  erase[mi] = true;
  auto rescale = MatchRescale(g, op, N);
  if (!rescale) return q;  // int32 output, as MatMulInteger's
  q.inputs[2] = rescale->s_x;
  q.inputs[4] = rescale->s_w;
  for (int n : rescale->nodes) erase[n] = true;
  std::string out = rescale->out;
  int next = SoleConsumer(g, out);
  if (next >= 0 && IsOnnxOp(g.nodes[next], "Add")) {
    const Tensor* b = g.FindConstant(OtherOf(g.nodes[next], out));
    if (b && b->dtype() == DType::kFloat32 && b->num_elements() == N && b->shape().size() == 1) {
      q.inputs[5] = OtherOf(g.nodes[next], out);
      erase[next] = true;
      out = g.nodes[next].outputs[0];
      next = SoleConsumer(g, out);
    }
  }
  if (next >= 0 && IsOnnxOp(g.nodes[next], "Relu")) {
    q.attrs["activation"] = std::string("Relu");
    erase[next] = true;
    out = g.nodes[next].outputs[0];
  }
  q.outputs = {out};
  return q;
}

}  // namespace

absl::Status FoldDynamicQuantMatMul(ir::Graph& graph) {
  FoldMatches(graph, {"MatMulInteger"}, TryFoldDynamic);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
