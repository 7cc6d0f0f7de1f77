#include "engine/passes/qdq_match.h"

#include "absl/strings/str_cat.h"
#include "engine/passes/passes.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::passes {

bool IsOnnxOp(const ir::Node& n, const char* op) {
  return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx");
}

std::optional<QdqMatch> MatchConstParamDq(const ir::Graph& g, const std::string& value) {
  int p = g.ProducerOf(value);
  if (p < 0 || !IsOnnxOp(g.nodes[p], "DequantizeLinear")) return std::nullopt;
  const ir::Node& dq = g.nodes[p];
  if (!g.FindConstant(dq.Input(1))) return std::nullopt;
  if (!dq.Input(2).empty() && !g.FindConstant(dq.Input(2))) return std::nullopt;
  return QdqMatch{p, dq.Input(0), dq.Input(1), dq.Input(2)};
}

std::optional<QdqMatch> MatchPerTensorQ(const ir::Graph& g, int index) {
  if (index < 0 || !IsOnnxOp(g.nodes[index], "QuantizeLinear")) return std::nullopt;
  const ir::Node& q = g.nodes[index];
  const Tensor* scale = g.FindConstant(q.Input(1));
  const Tensor* zp = q.Input(2).empty() ? nullptr : g.FindConstant(q.Input(2));
  if (!scale || scale->num_elements() != 1) return std::nullopt;
  if (!q.Input(2).empty() && (!zp || zp->num_elements() != 1)) return std::nullopt;
  return QdqMatch{index, q.Input(0), q.Input(1), q.Input(2)};
}

ir::Node InternalNode(const std::string& op_type, const std::string& name) {
  ir::Node n;
  n.op_type = op_type;
  n.domain = "q8";
  n.name = name;
  return n;
}

bool AllZero(const Tensor* t) {
  if (t == nullptr) return true;
  const auto* bytes = static_cast<const uint8_t*>(t->data());
  for (size_t i = 0; i < t->byte_size(); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

int SoleConsumer(const ir::Graph& g, const std::string& value) {
  if (g.IsGraphOutput(value)) return -1;
  auto consumers = g.ConsumersOf(value);
  return consumers.size() == 1 ? consumers[0] : -1;
}

std::optional<std::string> FoldBiasToFloat(ir::Graph& g, const std::string& value) {
  if (const Tensor* bf = g.FindConstant(value); bf && bf->dtype() == DType::kFloat32) {
    return value;
  }
  auto b = MatchConstParamDq(g, value);
  const Tensor* bq = b ? g.FindConstant(b->q_value) : nullptr;
  if (!bq || bq->dtype() != DType::kInt32 || bq->shape().size() != 1) return std::nullopt;
  const Tensor* bs = g.FindConstant(b->scale);
  const Tensor* bz = b->zero_point.empty() ? nullptr : g.FindConstant(b->zero_point);
  if (bs->dtype() != DType::kFloat32 ||
      (bs->num_elements() != 1 && bs->num_elements() != bq->num_elements()) ||
      (bz && (bz->dtype() != DType::kInt32 ||
              (bz->num_elements() != 1 && bz->num_elements() != bq->num_elements())))) {
    return std::nullopt;
  }
  Tensor bf(DType::kFloat32, bq->shape());
  for (int64_t i = 0; i < bq->num_elements(); ++i) {
    const float s = bs->data_as<float>()[bs->num_elements() == 1 ? 0 : i];
    const int32_t z = bz ? bz->data_as<int32_t>()[bz->num_elements() == 1 ? 0 : i] : 0;
    bf.data_as<float>()[i] = quant::Dequantize<int32_t>(bq->data_as<int32_t>()[i], s, z);
  }
  const std::string name = absl::StrCat(value, ":folded");
  g.constants[name] = std::make_shared<const Tensor>(std::move(bf));
  return name;
}

void EndFusedChain(const ir::Graph& g, int activation, std::string out, size_t y_scale_input,
                   ir::Node& fused, std::vector<bool>& erase) {
  if (activation >= 0) {
    erase[activation] = true;
    out = g.nodes[activation].outputs[0];
  }
  const int next = SoleConsumer(g, out);
  if (auto y = MatchPerTensorQ(g, next)) {
    fused.inputs[y_scale_input] = y->scale;
    fused.inputs[y_scale_input + 1] = y->zero_point;
    erase[next] = true;
    out = g.nodes[next].outputs[0];
  }
  fused.outputs = {out};
}

void SpliceFusions(ir::Graph& g, std::vector<std::pair<int, ir::Node>> replacements,
                   const std::vector<bool>& erase) {
  if (replacements.empty()) return;
  std::vector<ir::Node> nodes;
  nodes.reserve(g.nodes.size());
  size_t r = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (r < replacements.size() && replacements[r].first == static_cast<int>(i)) {
      nodes.push_back(std::move(replacements[r].second));
      ++r;
    } else if (!erase[i]) {
      nodes.push_back(std::move(g.nodes[i]));
    }
  }
  g.nodes = std::move(nodes);
  RemoveDeadNodes(g);
}

}  // namespace q8::engine::passes
