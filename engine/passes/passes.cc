#include "engine/passes/passes.h"

#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::passes {
namespace {

bool IsOnnxOp(const ir::Node& n, const char* op) {
  return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx");
}

// A DequantizeLinear whose scale and zero point are constants.
struct DqMatch {
  int node = -1;
  std::string q_value, scale, zero_point;
};

std::optional<DqMatch> MatchConstParamDq(const ir::Graph& g, const std::string& value) {
  int p = g.ProducerOf(value);
  if (p < 0 || !IsOnnxOp(g.nodes[p], "DequantizeLinear")) return std::nullopt;
  const ir::Node& dq = g.nodes[p];
  if (!g.FindConstant(dq.Input(1))) return std::nullopt;
  if (!dq.Input(2).empty() && !g.FindConstant(dq.Input(2))) return std::nullopt;
  return DqMatch{p, dq.Input(0), dq.Input(1), dq.Input(2)};
}

bool AllZero(const Tensor* t) {
  if (t == nullptr) return true;  // omitted zero point means 0
  const auto* bytes = static_cast<const uint8_t*>(t->data());
  for (size_t i = 0; i < t->byte_size(); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

// The single consumer of `value` when it has exactly one and is not a graph output.
int SoleConsumer(const ir::Graph& g, const std::string& value) {
  if (g.IsGraphOutput(value)) return -1;
  auto consumers = g.ConsumersOf(value);
  return consumers.size() == 1 ? consumers[0] : -1;
}

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

  // Bias: a constant float vector, or a constant int32 vector behind a DequantizeLinear,
  // which is evaluated here once, b = (b_q - b_zp) * b_scale, so the kernel sees floats.
  if (is_gemm && !op.Input(2).empty()) {
    auto b = MatchConstParamDq(g, op.Input(2));
    const Tensor* bq = b ? g.FindConstant(b->q_value) : nullptr;
    if (bq && bq->dtype() == DType::kInt32 && bq->shape().size() == 1) {
      const Tensor* bs = g.FindConstant(b->scale);
      const Tensor* bz = b->zero_point.empty() ? nullptr : g.FindConstant(b->zero_point);
      if (bs->dtype() != DType::kFloat32 || (bs->num_elements() != 1 &&
                                             bs->num_elements() != bq->num_elements())) {
        return std::nullopt;
      }
      Tensor bf(DType::kFloat32, bq->shape());
      for (int64_t i = 0; i < bq->num_elements(); ++i) {
        const float s = bs->data_as<float>()[bs->num_elements() == 1 ? 0 : i];
        const int32_t z = bz ? bz->data_as<int32_t>()[bz->num_elements() == 1 ? 0 : i] : 0;
        bf.data_as<float>()[i] = quant::Dequantize<int32_t>(bq->data_as<int32_t>()[i], s, z);
      }
      const std::string name = absl::StrCat(op.Input(2), ":folded");
      g.constants[name] = std::make_shared<const Tensor>(std::move(bf));
      q.inputs[8] = name;
    } else if (const Tensor* bf = g.FindConstant(op.Input(2));
               bf && bf->dtype() == DType::kFloat32) {
      q.inputs[8] = op.Input(2);
    } else {
      return std::nullopt;
    }
  }

  std::string out = op.outputs[0];
  erase[mm] = true;
  int next = SoleConsumer(g, out);
  if (next >= 0 && IsOnnxOp(g.nodes[next], "Relu")) {
    q.attrs["activation"] = std::string("Relu");
    erase[next] = true;
    out = g.nodes[next].outputs[0];
    next = SoleConsumer(g, out);
  }
  if (next >= 0 && IsOnnxOp(g.nodes[next], "QuantizeLinear")) {
    const ir::Node& qn = g.nodes[next];
    const Tensor* ys = g.FindConstant(qn.Input(1));
    const Tensor* yz = qn.Input(2).empty() ? nullptr : g.FindConstant(qn.Input(2));
    if (ys && ys->num_elements() == 1 && (qn.Input(2).empty() || (yz && yz->num_elements() == 1))) {
      q.inputs[6] = qn.Input(1);
      q.inputs[7] = qn.Input(2);
      erase[next] = true;
      out = qn.outputs[0];
    }
  }
  q.outputs = {out};
  return q;
}

}  // namespace

absl::Status FoldQdqMatMul(ir::Graph& graph) {
  std::vector<bool> erase(graph.nodes.size(), false);
  std::vector<std::pair<int, ir::Node>> replacements;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& n = graph.nodes[i];
    if (erase[i] || !(IsOnnxOp(n, "Gemm") || IsOnnxOp(n, "MatMul"))) continue;
    if (auto q = TryFold(graph, static_cast<int>(i), erase)) {
      replacements.emplace_back(static_cast<int>(i), std::move(*q));
    }
  }
  if (replacements.empty()) return absl::OkStatus();
  // The fused node takes the matmul's place; the last fused node (Q or Relu) is later in
  // topological order but every consumer of its output comes after it, and nothing else
  // between them reads the fused intermediates (they had a sole consumer), so order holds.
  std::vector<ir::Node> nodes;
  nodes.reserve(graph.nodes.size());
  size_t r = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (r < replacements.size() && replacements[r].first == static_cast<int>(i)) {
      nodes.push_back(std::move(replacements[r].second));
      ++r;
    } else if (!erase[i]) {
      nodes.push_back(std::move(graph.nodes[i]));
    }
  }
  graph.nodes = std::move(nodes);
  RemoveDeadNodes(graph);
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
  if (auto s = FoldQdqMatMul(graph); !s.ok()) return s;
  if (auto s = RewriteQLinearMatMul(graph); !s.ok()) return s;
  RemoveDeadNodes(graph);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
