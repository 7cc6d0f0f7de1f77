// FoldQdqAdd and FoldQdqPool: int8 residual adds → q8.QAdd (kernels/qadd_kernel.cc) and
// int8 pooling → q8.QPool (kernels/pool_kernels.cc).
#include "absl/status/status.h"
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

std::optional<ir::Node> TryFoldAdd(ir::Graph& g, int add, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[add];
  auto a = MatchPerTensorDq(g, op.Input(0));
  auto b = MatchPerTensorDq(g, op.Input(1));
  if (!a || !b) return std::nullopt;
  std::string out = op.outputs[0];
  int next = SoleConsumer(g, out);
  const int relu = next >= 0 && IsOnnxOp(g.nodes[next], "Relu") ? next : -1;
  if (relu >= 0) next = SoleConsumer(g, g.nodes[relu].outputs[0]);
  auto y = MatchPerTensorQ(g, next);
  if (!y) return std::nullopt;  // a float result stays a float Add
  ir::Node q = InternalNode("QAdd", op.name);
  q.inputs = {a->q_value, a->scale, a->zero_point, b->q_value, b->scale, b->zero_point,
              y->scale,   y->zero_point};
  if (relu >= 0) {
    q.attrs["activation"] = std::string("Relu");
    erase[relu] = true;
  }
  q.outputs = {g.nodes[next].outputs[0]};
  erase[add] = true;
  erase[next] = true;
  return q;
}

std::optional<ir::Node> TryFoldPool(ir::Graph& g, int pool, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[pool];
  if (op.outputs.size() > 1 && !op.outputs[1].empty()) return std::nullopt;  // Indices
  auto x = MatchPerTensorDq(g, op.Input(0));
  auto y = MatchPerTensorQ(g, SoleConsumer(g, op.outputs[0]));
  if (!x || !y) return std::nullopt;
  ir::Node q = InternalNode("QPool", op.name);
  q.attrs = op.attrs;
  q.attrs["pool"] = op.op_type;
  q.inputs = {x->q_value, x->scale, x->zero_point, y->scale, y->zero_point};
  q.outputs = {g.nodes[y->node].outputs[0]};
  erase[pool] = true;
  erase[y->node] = true;
  return q;
}

}  // namespace

absl::Status FoldQdqAdd(ir::Graph& graph) {
  FoldMatches(graph, {"Add"}, TryFoldAdd);
  return absl::OkStatus();
}

absl::Status FoldQdqPool(ir::Graph& graph) {
  FoldMatches(graph, {"MaxPool", "AveragePool", "GlobalAveragePool"}, TryFoldPool);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
