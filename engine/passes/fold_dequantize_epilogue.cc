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
#include "absl/strings/str_cat.h"
#include "engine/passes/passes.h"

namespace q8::engine::passes {
namespace {

bool Is(const ir::Node& n, const char* op) { return n.op_type == op && n.domain.empty(); }

int SoleConsumer(const ir::Graph& g, const std::string& value) {
  if (g.IsGraphOutput(value)) return -1;
  auto consumers = g.ConsumersOf(value);
  return consumers.size() == 1 ? consumers[0] : -1;
}

bool ScalarConstant(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.FindConstant(name);
  return t != nullptr && t->num_elements() == 1;
}

}  // namespace

absl::Status FoldDequantizeEpilogue(ir::Graph& graph) {
  std::vector<bool> erase(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& dq = graph.nodes[i];
    if (erase[i] || !Is(dq, "DequantizeLinear") || !ScalarConstant(graph, dq.Input(1)) ||
        (!dq.Input(2).empty() && !ScalarConstant(graph, dq.Input(2))) || graph.FindConstant(dq.Input(0))) {
      continue;
    }
    const int add = SoleConsumer(graph, dq.outputs[0]);
    if (add < 0 || !Is(graph.nodes[add], "Add")) continue;
    const ir::Node& add_node = graph.nodes[add];
    const std::string& bias =
        add_node.Input(0) == dq.outputs[0] ? add_node.Input(1) : add_node.Input(0);
    const Tensor* b = graph.FindConstant(bias);
    if (b == nullptr || b->dtype() != DType::kFloat32 || b->shape().size() > 1) continue;

    ir::Node fused;
    fused.op_type = "DequantizeEpilogue";
    fused.domain = "q8";
    fused.name = add_node.name;
    fused.inputs = {dq.Input(0), dq.Input(1), dq.Input(2), bias, "", ""};
    std::vector<int> chain{add};
    std::string out = add_node.outputs[0];
    int next = SoleConsumer(graph, out);
    if (next >= 0 && Is(graph.nodes[next], "Relu")) {
      fused.attrs["activation"] = std::string("Relu");
      chain.push_back(next);
      out = graph.nodes[next].outputs[0];
      next = SoleConsumer(graph, out);
    }
    if (next >= 0 && Is(graph.nodes[next], "QuantizeLinear") &&
        ScalarConstant(graph, graph.nodes[next].Input(1)) &&
        (graph.nodes[next].Input(2).empty() || ScalarConstant(graph, graph.nodes[next].Input(2)))) {
      fused.inputs[4] = graph.nodes[next].Input(1);
      fused.inputs[5] = graph.nodes[next].Input(2);
      chain.push_back(next);
      out = graph.nodes[next].outputs[0];
    }
    fused.outputs = {out};
    // The fused node replaces the DequantizeLinear in place: its input is ready there,
    // and every consumer of `out` comes after the chain's last node.
    for (int n : chain) erase[n] = true;
    graph.nodes[i] = std::move(fused);
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!erase[i]) kept.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(kept);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
