// Moves a per-tensor QuantizeLinear in front of the pure data movement that precedes it,
// so the producer can emit the quantized tensor itself (fused requantization) and the
// movement runs on 1-byte instead of 4-byte elements:
//
//   y ─ Reshape | Transpose | Squeeze | Unsqueeze | Flatten (…) ─ QuantizeLinear ─► t_q
//     ⇒  y ─ QuantizeLinear ─ (the same movement ops) ─► t_q
//
// Exact: with one scale and zero point, quantization is element-wise and commutes with any
// rearrangement of elements. Each moved op's output must have that single consumer.
#include "absl/strings/str_cat.h"
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

bool IsDataMovement(const ir::Node& n) {
  for (const char* op : {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten"}) {
    if (IsOnnxOp(n, op)) return true;
  }
  return false;
}

}  // namespace

absl::Status HoistQuantize(ir::Graph& graph) {
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    auto q = MatchPerTensorQ(graph, static_cast<int>(i));
    if (!q) continue;
    // chain: the movement ops from the quantize back towards y, nearest first.
    std::vector<int> chain;
    std::string value = q->q_value;
    for (int p = graph.ProducerOf(value); p >= 0 && IsDataMovement(graph.nodes[p]) &&
                                          SoleConsumer(graph, value) >= 0;
         p = graph.ProducerOf(value)) {
      chain.push_back(p);
      value = graph.nodes[p].Input(0);
    }
    if (chain.empty()) continue;
    // Rewire: Q reads y and writes "<y>:quantized"; each movement op reads the quantized
    // value of its old input; the op nearest the Q writes the Q's old output.
    ir::Node quant = graph.nodes[i];
    const std::string q_out = quant.outputs[0];
    quant.inputs[0] = value;
    quant.outputs[0] = absl::StrCat(value, ":quantized");
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      ir::Node& m = graph.nodes[*it];
      m.inputs[0] = absl::StrCat(m.inputs[0], ":quantized");
      if (*it == chain.front()) {
        m.outputs[0] = q_out;
      } else {
        m.outputs[0] = absl::StrCat(m.outputs[0], ":quantized");
      }
    }
    // The Q moves to just before the first movement op (chain.back(), the earliest).
    const int first = chain.back();
    graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
    graph.nodes.insert(graph.nodes.begin() + first, std::move(quant));
  }
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
