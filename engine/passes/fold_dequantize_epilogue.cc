// QOperator graphs (onnxruntime's QLinearMatMul / QLinearConv form) leave the bias add
// and activation in float between two quantized ops:
//
//   y_q ─ DequantizeLinear ─ Add(b const) ─[Relu]─[QuantizeLinear]─►  out_q (or float out)
//        ⇒  y_q ─ q8.DequantizeEpilogue(b, relu, out scale) ─► out_q (or out)
//
// The fused kernel computes exactly what the chain does, element by element:
//   out = Q(act((y_q − z_y)·s_y + b[n]), s_out, z_out)   (or the float value, unquantized)
// so results match the unfused graph bit for bit; it only saves three passes over memory.
// b must be a constant float vector over the last axis (or a scalar); the intermediate
// values must each have one consumer and not be graph outputs.
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

bool ScalarConstant(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.FindConstant(name);
  return t != nullptr && t->num_elements() == 1;
}

// Anchored on the Add: its DequantizeLinear input comes first in graph order, and the
// fused node needs only that DequantizeLinear's input, which is ready by then.
std::optional<ir::Node> FoldEpilogue(ir::Graph& g, int add, std::vector<bool>& erase) {
  const ir::Node& add_node = g.nodes[add];
  for (int side : {0, 1}) {
    auto dq = MatchConstParamDq(g, add_node.Input(side));
    if (!dq || !ScalarConstant(g, dq->scale) ||
        (!dq->zero_point.empty() && !ScalarConstant(g, dq->zero_point)) ||
        g.FindConstant(dq->q_value) || SoleConsumer(g, add_node.Input(side)) != add) {
      continue;
    }
    const std::string& bias = add_node.Input(1 - side);
    const Tensor* b = g.FindConstant(bias);
    if (b == nullptr || b->dtype() != DType::kFloat32 || b->shape().size() > 1) continue;
    ir::Node fused = InternalNode("DequantizeEpilogue", add_node.name);
    fused.inputs = {dq->q_value, dq->scale, dq->zero_point, bias, "", ""};
    const int next = SoleConsumer(g, add_node.outputs[0]);
    const int relu = next >= 0 && IsOnnxOp(g.nodes[next], "Relu") ? next : -1;
    if (relu >= 0) fused.attrs["activation"] = std::string("Relu");
    erase[dq->node] = true;
    EndFusedChain(g, relu, add_node.outputs[0], /*y_scale_input=*/4, fused, erase);
    return fused;
  }
  return std::nullopt;
}

}  // namespace

absl::Status FoldDequantizeEpilogue(ir::Graph& graph) {
  FoldMatches(graph, {"Add"}, FoldEpilogue);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
