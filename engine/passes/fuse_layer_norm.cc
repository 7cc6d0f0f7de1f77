// LayerNormalization as exporters spell it before opset 17 (PyTorch's nn.LayerNorm, the
// encoder layers of every BERT exported at opset 11–16) becomes one LayerNormalization,
// which runs on oneDNN's layer normalization primitive instead of nine passes over the
// activation:
//
//   x ─┬─ ReduceMean(axes) ─┐
//      └──────────────────── Sub ─ d ─┬─ Pow(2) | Mul(d, d) ─ ReduceMean(axes) ─ Add(ε) ─ Sqrt ─┐
//                                     └───────────────────────────────────────────────── Div ─┐
//                                                                    Mul(γ) ─ [Add(β)] ─►  y
//        ⇒  x ─ LayerNormalization(γ, β, axis = -k, epsilon = ε) ─► y
//
// Requirements (else the nodes stay as they are): both ReduceMeans over the same last k
// axes, given as negative numbers (-k..-1), keepdims; ε a float scalar constant; γ (and β)
// float constants of rank k with every dim > 1, so they are the normalised shape itself
// rather than something broadcast; every intermediate has only the consumers drawn and is
// not a graph output.
#include <algorithm>

#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

std::optional<float> FloatScalar(const ir::Graph& g, const std::string& value) {
  const Tensor* t = g.FindConstant(value);
  if (t == nullptr || t->dtype() != DType::kFloat32 || t->num_elements() != 1) return std::nullopt;
  return t->data_as<float>()[0];
}

// The number k of trailing axes a keepdims ReduceMean averages over when they are written
// -k..-1 (any order); 0 otherwise.
int TrailingAxes(const ir::Graph& g, const ir::Node& reduce) {
  if (reduce.GetInt("keepdims", 1) != 1) return 0;
  std::vector<int64_t> axes = reduce.GetInts("axes");
  if (!reduce.Input(1).empty()) {
    const Tensor* t = g.FindConstant(reduce.Input(1));
    if (t == nullptr || t->dtype() != DType::kInt64) return 0;
    axes.assign(t->data_as<int64_t>(), t->data_as<int64_t>() + t->num_elements());
  }
  std::sort(axes.begin(), axes.end());
  const int k = static_cast<int>(axes.size());
  for (int i = 0; i < k; ++i) {
    if (axes[i] != i - k) return 0;
  }
  return k;
}

// A float constant of rank k with every dim > 1.
bool IsNormalisedShapeParam(const ir::Graph& g, const std::string& value, int k) {
  const Tensor* t = g.FindConstant(value);
  if (t == nullptr || t->dtype() != DType::kFloat32 ||
      static_cast<int>(t->shape().size()) != k) {
    return false;
  }
  return std::all_of(t->shape().begin(), t->shape().end(), [](int64_t d) { return d > 1; });
}

std::optional<ir::Node> TryFuseLayerNorm(const ir::Graph& g, int mean_index,
                                         std::vector<bool>& erase) {
  const ir::Node& mean = g.nodes[mean_index];
  const std::string x = mean.Input(0);
  const int k = TrailingAxes(g, mean);
  if (k == 0) return std::nullopt;
  const int sub = SoleConsumerOp(g, mean.outputs[0], "Sub");
  if (sub < 0 || g.nodes[sub].Input(0) != x || g.nodes[sub].Input(1) != mean.outputs[0]) {
    return std::nullopt;
  }
  // d = x - mean feeds the square and the division, nothing else.
  const std::string d = g.nodes[sub].outputs[0];
  if (g.IsGraphOutput(d)) return std::nullopt;
  std::vector<int> readers = g.ConsumersOf(d);
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  if (readers.size() != 2) return std::nullopt;
  int square = -1, div = -1;
  for (int r : readers) {
    const ir::Node& n = g.nodes[r];
    if (IsOnnxOp(n, "Pow") && n.Input(0) == d && FloatScalar(g, n.Input(1)) == 2.f) {
      square = r;
    } else if (IsOnnxOp(n, "Mul") && n.Input(0) == d && n.Input(1) == d) {
      square = r;
    } else if (IsOnnxOp(n, "Div") && n.Input(0) == d) {
      div = r;
    }
  }
  if (square < 0 || div < 0) return std::nullopt;
  const int var = SoleConsumerOp(g, g.nodes[square].outputs[0], "ReduceMean");
  if (var < 0 || TrailingAxes(g, g.nodes[var]) != k) return std::nullopt;
  const int add_eps = SoleConsumerOp(g, g.nodes[var].outputs[0], "Add");
  if (add_eps < 0) return std::nullopt;
  const std::optional<float> epsilon =
      FloatScalar(g, OtherInput(g.nodes[add_eps], g.nodes[var].outputs[0]));
  if (!epsilon || !(*epsilon >= 0.f)) return std::nullopt;
  const int sqrt = SoleConsumerOp(g, g.nodes[add_eps].outputs[0], "Sqrt");
  if (sqrt < 0 || SoleConsumer(g, g.nodes[sqrt].outputs[0]) != div ||
      g.nodes[div].Input(1) != g.nodes[sqrt].outputs[0]) {
    return std::nullopt;
  }
  const std::string normalised = g.nodes[div].outputs[0];
  const int scale = SoleConsumerOp(g, normalised, "Mul");
  if (scale < 0) return std::nullopt;
  const std::string gamma = OtherInput(g.nodes[scale], normalised);
  if (!IsNormalisedShapeParam(g, gamma, k)) return std::nullopt;
  std::vector<int> absorbed{mean_index, sub, square, var, add_eps, sqrt, div, scale};
  int last = scale;
  std::string beta;
  const int shift = SoleConsumerOp(g, g.nodes[scale].outputs[0], "Add");
  if (shift >= 0) {
    const std::string b = OtherInput(g.nodes[shift], g.nodes[scale].outputs[0]);
    if (IsNormalisedShapeParam(g, b, k) &&
        g.FindConstant(b)->shape() == g.FindConstant(gamma)->shape()) {
      beta = b;
      last = shift;
      absorbed.push_back(shift);
    }
  }
  ir::Node ln;
  ln.name = g.nodes[last].name;
  ln.op_type = "LayerNormalization";
  ln.inputs = {x, gamma};
  if (!beta.empty()) ln.inputs.push_back(beta);
  ln.outputs = {g.nodes[last].outputs[0]};
  ln.attrs["axis"] = int64_t{-k};
  ln.attrs["epsilon"] = *epsilon;
  for (int n : absorbed) erase[n] = true;
  return ln;
}

}  // namespace

absl::Status FuseLayerNorm(ir::Graph& graph) {
  // The fused node takes the first ReduceMean's place: x is defined before it, γ and β are
  // constants, and every reader of y comes after the last node of the chain.
  FoldMatches(graph, {"ReduceMean"}, TryFuseLayerNorm);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
