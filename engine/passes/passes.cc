#include "engine/passes/passes.h"

#include <unordered_set>

#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

// Tries to fold the matrix product at node index `mm`; returns the new QGemm node.
std::optional<ir::Node> TryFold(ir::Graph& g, int mm, std::vector<bool>& erase) {
  const ir::Node& op = g.nodes[mm];
  const bool is_gemm = IsOnnxOp(op, "Gemm");
  if (is_gemm && (op.GetInt("transA", 0) != 0 || op.GetFloat("alpha", 1.f) != 1.f ||
                  op.GetFloat("beta", 1.f) != 1.f)) {
    return std::nullopt;
  }
  auto x = MatchConstParamDq(g, op.Input(0));
  auto w = MatchConstParamDq(g, op.Input(1));
  if (!x || !w) return std::nullopt;
  const Tensor* wq = g.FindConstant(w->q_value);
  if (!wq || wq->dtype() != DType::kInt8 || wq->shape().size() != 2) return std::nullopt;
  if (!AllZero(g.FindConstant(w->zero_point))) return std::nullopt;
  // Per-channel weight scales must run along the output (N) axis.
  const Tensor* ws = g.FindConstant(w->scale);
  const bool trans_b = is_gemm && op.GetInt("transB", 0) != 0;
  if (ws->num_elements() > 1) {
    int axis = static_cast<int>(g.nodes[w->node].GetInt("axis", 1));
    if (axis < 0) axis += 2;
    if (axis != (trans_b ? 0 : 1)) return std::nullopt;
  }

  ir::Node q;
  q.op_type = "QGemm";
  q.domain = "q8";
  q.name = op.name;
  // QLinearMatMul's input order, then the bias: one kernel serves both.
  q.inputs = {x->q_value, x->scale, x->zero_point, w->q_value, w->scale, w->zero_point, "", "", ""};
  q.attrs["transB"] = int64_t{trans_b ? 1 : 0};
  q.attrs["source_op"] = op.op_type;

  // Bias: a float constant, or an int32 constant behind a DequantizeLinear (evaluated once).
  if (is_gemm && !op.Input(2).empty()) {
    auto bias = FoldBias(g, op.Input(2), x->scale, w->scale);
    if (!bias) return std::nullopt;
    q.inputs[8] = *bias;
  }

  std::string out = op.outputs[0];
  erase[mm] = true;
  int next = SoleConsumer(g, out);
  // MatMul + Add(float constant b[N]), how exporters spell a linear layer: b joins the QGemm.
  if (!is_gemm && next >= 0 && IsOnnxOp(g.nodes[next], "Add")) {
    const ir::Node& add = g.nodes[next];
    const std::string& b = add.Input(0) == out ? add.Input(1) : add.Input(0);
    const Tensor* bias = g.FindConstant(b);
    if (bias && bias->dtype() == DType::kFloat32 && bias->shape() == Shape{wq->shape()[1]}) {
      q.inputs[8] = b;
      erase[next] = true;
      out = add.outputs[0];
      next = SoleConsumer(g, out);
    }
  }
  const bool gelu = next >= 0 && g.nodes[next].domain == "q8" && g.nodes[next].op_type == "Gelu";
  int activation = -1;
  if (next >= 0 && (IsOnnxOp(g.nodes[next], "Relu") || gelu)) {
    q.attrs["activation"] = std::string(gelu ? "Gelu" : "Relu");
    activation = next;
  }
  EndFusedChain(g, activation, out, 6, q, erase);
  return q;
}

}  // namespace

absl::Status FoldQdqMatMul(ir::Graph& graph) {
  FoldMatches(graph, {"Gemm", "MatMul"}, TryFold);
  return absl::OkStatus();
}

absl::Status RewriteQLinearMatMul(ir::Graph& graph) {
  for (ir::Node& n : graph.nodes) {
    if (!IsOnnxOp(n, "QLinearMatMul")) continue;
    const Tensor* b = graph.FindConstant(n.Input(3));
    bool params_const = true;
    for (int i : {1, 2, 4, 5, 6, 7}) {
      if (!n.Input(i).empty() && !graph.FindConstant(n.Input(i))) params_const = false;
    }
    if (!b || b->dtype() != DType::kInt8 || b->shape().size() != 2 || !params_const ||
        !AllZero(graph.FindConstant(n.Input(5)))) {
      continue;  // the reference kernel handles the general case
    }
    const Tensor* bs = graph.FindConstant(n.Input(4));
    if (bs->num_elements() > 1 && bs->num_elements() != b->shape()[1]) continue;
    n.op_type = "QGemm";
    n.domain = "q8";
    n.inputs.resize(9);
    n.attrs["transB"] = int64_t{0};
    n.attrs["source_op"] = std::string("QLinearMatMul");
  }
  return absl::OkStatus();
}

void RemoveDeadNodes(ir::Graph& graph) {
  std::unordered_set<std::string> live;
  for (const auto& out : graph.outputs) live.insert(out.name);
  std::vector<bool> keep(graph.nodes.size(), false);
  for (int i = static_cast<int>(graph.nodes.size()) - 1; i >= 0; --i) {
    const ir::Node& n = graph.nodes[i];
    for (const auto& out : n.outputs) {
      if (live.count(out)) keep[i] = true;
    }
    if (!keep[i]) continue;
    for (const auto& in : n.inputs) live.insert(in);
  }
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (keep[i]) nodes.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(nodes);
}

absl::Status RunPasses(ir::Graph& graph) {
  if (auto s = FoldConstants(graph); !s.ok()) return s;
  if (auto s = FuseErfGelu(graph); !s.ok()) return s;
  if (auto s = FuseLayerNorm(graph); !s.ok()) return s;
  if (auto s = HoistQuantize(graph); !s.ok()) return s;
  if (auto s = FoldQdqMatMul(graph); !s.ok()) return s;
  if (auto s = FoldQdqMatMulAct(graph); !s.ok()) return s;
  if (auto s = FoldDynamicQuantMatMul(graph); !s.ok()) return s;
  if (auto s = RewriteQLinearMatMul(graph); !s.ok()) return s;
  if (auto s = FoldQdqConv(graph); !s.ok()) return s;
  if (auto s = FoldTfliteInt8(graph); !s.ok()) return s;
  if (auto s = FoldQdqAdd(graph); !s.ok()) return s;
  if (auto s = FoldQdqPool(graph); !s.ok()) return s;
  if (auto s = FoldDequantizeEpilogue(graph); !s.ok()) return s;
  if (auto s = EliminateIdentity(graph); !s.ok()) return s;
  if (auto s = UnsignedConvActivations(graph); !s.ok()) return s;
  RemoveDeadNodes(graph);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
