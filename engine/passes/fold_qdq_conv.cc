// FoldQdqConv: QDQ-form convolutions → q8.QConv (kernels/conv_kernels.cc).
#include "absl/status/status.h"
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

// Tries to fold the Conv at node index `conv`; returns the q8.QConv node.
std::optional<ir::Node> TryFold(ir::Graph& g, int conv, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[conv];
  auto x = MatchConstParamDq(g, op.Input(0));
  auto w = MatchConstParamDq(g, op.Input(1));
  if (!x || !w || g.FindConstant(x->scale)->num_elements() != 1) return std::nullopt;
  const Tensor* wq = g.FindConstant(w->q_value);
  if (!wq || wq->dtype() != DType::kInt8 || wq->shape().size() != 4) return std::nullopt;
  if (!AllZero(g.FindConstant(w->zero_point))) return std::nullopt;
  // Per-channel weight scales must run along the output channels (axis 0); the kernel
  // checks their count and reports a mismatch as a load error naming the node.
  if (g.FindConstant(w->scale)->num_elements() > 1) {
    const int64_t axis = g.nodes[w->node].GetInt("axis", 1);
    if (axis != 0 && axis != -4) return std::nullopt;
  }

  ir::Node q = InternalNode("QConv", op.name);
  q.attrs = op.attrs;  // kernel_shape, strides, pads, dilations, group, auto_pad
  q.attrs["source_op"] = std::string("Conv");
  // QLinearConv's input order: one kernel serves both forms.
  q.inputs = {x->q_value, x->scale, x->zero_point, w->q_value, w->scale, w->zero_point, "", "", ""};
  if (!op.Input(2).empty()) {
    auto bias = FoldBias(g, op.Input(2), x->scale, w->scale);
    if (!bias) return std::nullopt;
    q.inputs[8] = *bias;
  }

  const std::string out = op.outputs[0];
  erase[conv] = true;
  const int next = SoleConsumer(g, out);
  int activation = -1;
  if (next >= 0 && IsOnnxOp(g.nodes[next], "Relu")) {
    q.attrs["activation"] = std::string("Relu");
    activation = next;
  } else if (next >= 0 && IsOnnxOp(g.nodes[next], "Clip")) {
    if (auto bounds = ClipBounds(g, g.nodes[next])) {
      q.attrs["activation"] = std::string("Clip");
      q.attrs["clip_min"] = bounds->first;
      q.attrs["clip_max"] = bounds->second;
      activation = next;
    }
  }
  EndFusedChain(g, activation, out, 6, q, erase);
  return q;
}

}  // namespace

absl::Status FoldQdqConv(ir::Graph& graph) {
  FoldMatches(graph, {"Conv"}, TryFold);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
