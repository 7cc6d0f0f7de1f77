// The Erf spelling of GELU, as exporters emit it before opset 20, becomes one q8.Gelu
// (oneDNN eltwise gelu_erf, 0.5·x·(1 + erf(x/√2))):
//
//   x ─┬─ Div(√2) | Mul(1/√2) ─ Erf ─ Add(1) ─┐
//      └──────────────────────────────────── Mul ─ Mul(0.5) ─►  y
//                                      (or x ─ Mul(0.5) ─ Mul(·, 1 + erf) ─► y)
//        ⇒  x ─ q8.Gelu ─► y
//
// Every intermediate must have that single consumer and not be a graph output.
#include <cmath>

#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

// True when `value` is a one-element float constant equal to `want` (to 1e-5 relative).
bool IsScalar(const ir::Graph& g, const std::string& value, float want) {
  const Tensor* t = g.FindConstant(value);
  return t != nullptr && t->dtype() == DType::kFloat32 && t->num_elements() == 1 &&
         std::abs(t->data_as<float>()[0] - want) <= 1e-5f * std::abs(want);
}

std::optional<ir::Node> TryFuseGelu(const ir::Graph& g, int erf, std::vector<bool>& erase) {
  const ir::Node& e = g.nodes[erf];
  const int scale = g.ProducerOf(e.Input(0));
  if (scale < 0 || SoleConsumer(g, e.Input(0)) != erf) return std::nullopt;
  const ir::Node& s = g.nodes[scale];
  const std::string x = s.Input(0);
  const bool scaled = (IsOnnxOp(s, "Div") && IsScalar(g, s.Input(1), std::sqrt(2.f))) ||
                      (IsOnnxOp(s, "Mul") && IsScalar(g, s.Input(1), std::sqrt(0.5f)));
  if (!scaled) return std::nullopt;
  const int add = SoleConsumerOp(g, e.outputs[0], "Add");
  if (add < 0 || !IsScalar(g, OtherInput(g.nodes[add], e.outputs[0]), 1.f)) return std::nullopt;
  const std::string one_plus_erf = g.nodes[add].outputs[0];
  const int mul = SoleConsumerOp(g, one_plus_erf, "Mul");
  if (mul < 0) return std::nullopt;
  const std::string other = OtherInput(g.nodes[mul], one_plus_erf);
  int last = -1;
  std::vector<int> absorbed{scale, erf, add, mul};
  if (other == x) {  // (x · (1 + erf)) · 0.5
    last = SoleConsumerOp(g, g.nodes[mul].outputs[0], "Mul");
    if (last < 0 || !IsScalar(g, OtherInput(g.nodes[last], g.nodes[mul].outputs[0]), 0.5f)) {
      return std::nullopt;
    }
    absorbed.push_back(last);
  } else {  // (x · 0.5) · (1 + erf)
    const int half = g.ProducerOf(other);
    if (half < 0 || !IsOnnxOp(g.nodes[half], "Mul") || SoleConsumer(g, other) != mul ||
        OtherInput(g.nodes[half], x) == "" || !IsScalar(g, OtherInput(g.nodes[half], x), 0.5f)) {
      return std::nullopt;
    }
    last = mul;
    absorbed.push_back(half);
  }
  ir::Node gelu = InternalNode("Gelu", g.nodes[last].name);
  gelu.inputs = {x};
  gelu.outputs = {g.nodes[last].outputs[0]};
  for (int n : absorbed) erase[n] = true;
  return gelu;
}

}  // namespace

absl::Status FuseErfGelu(ir::Graph& graph) {
  // The fused node takes the Erf's place: x is defined before it, and every reader of
  // the pattern's output comes after the last Mul, which is after the Erf.
  FoldMatches(graph, {"Erf"}, TryFuseGelu);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
