#include "engine/passes/qdq_match.h"

#include <cmath>

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
  // TFLite's x · (1/s) quantization is not an output scale a fused kernel can apply.
  if (q.GetInt("scale_reciprocal", 0) != 0) return std::nullopt;
  const Tensor* scale = g.FindConstant(q.Input(1));
  const Tensor* zp = q.Input(2).empty() ? nullptr : g.FindConstant(q.Input(2));
  if (!scale || scale->num_elements() != 1) return std::nullopt;
  if (!q.Input(2).empty() && (!zp || zp->num_elements() != 1)) return std::nullopt;
  return QdqMatch{index, q.Input(0), q.Input(1), q.Input(2)};
}

std::optional<QdqMatch> MatchPerTensorDq(const ir::Graph& g, const std::string& value) {
  auto dq = MatchConstParamDq(g, value);
  if (!dq || g.FindConstant(dq->scale)->num_elements() != 1) return std::nullopt;
  if (!dq->zero_point.empty() && g.FindConstant(dq->zero_point)->num_elements() != 1) {
    return std::nullopt;
  }
  return dq;
}

// The constant bounds of a Clip (opset ≥ 11 inputs, or opset 6 attributes). nullopt when a
// bound is a runtime input.
std::optional<std::pair<float, float>> ClipBounds(const ir::Graph& g, const ir::Node& clip) {
  float bound[2] = {clip.GetFloat("min", -3.402823466e38f), clip.GetFloat("max", 3.402823466e38f)};
  for (int i = 0; i < 2; ++i) {
    if (clip.Input(1 + i).empty()) continue;
    const Tensor* t = g.FindConstant(clip.Input(1 + i));
    if (!t || t->dtype() != DType::kFloat32 || t->num_elements() != 1) return std::nullopt;
    bound[i] = t->data_as<float>()[0];
  }
  return std::make_pair(bound[0], bound[1]);
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

int SoleConsumerOp(const ir::Graph& g, const std::string& value, const char* op) {
  const int c = SoleConsumer(g, value);
  return c >= 0 && IsOnnxOp(g.nodes[c], op) ? c : -1;
}

std::string OtherInput(const ir::Node& n, const std::string& value) {
  if (n.Input(0) == value) return n.Input(1);
  if (n.Input(1) == value) return n.Input(0);
  return "";
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

std::optional<std::string> FoldBias(ir::Graph& g, const std::string& value,
                                    const std::string& x_scale, const std::string& w_scale) {
  auto b = MatchConstParamDq(g, value);
  const Tensor* bq = b ? g.FindConstant(b->q_value) : nullptr;
  const Tensor* bs = b ? g.FindConstant(b->scale) : nullptr;
  const Tensor* xs = g.FindConstant(x_scale);
  const Tensor* ws = g.FindConstant(w_scale);
  const bool typed = bq && bq->dtype() == DType::kInt32 && bq->shape().size() == 1 && bs &&
                     bs->dtype() == DType::kFloat32 && xs && xs->dtype() == DType::kFloat32 &&
                     xs->num_elements() == 1 && ws && ws->dtype() == DType::kFloat32;
  if (!typed || (!b->zero_point.empty() && !AllZero(g.FindConstant(b->zero_point)))) {
    return FoldBiasToFloat(g, value);
  }
  const int64_t n = bq->num_elements();
  if ((bs->num_elements() != 1 && bs->num_elements() != n) ||
      (ws->num_elements() != 1 && ws->num_elements() != n)) {
    return FoldBiasToFloat(g, value);
  }
  for (int64_t c = 0; c < n; ++c) {
    const float sb = bs->data_as<float>()[bs->num_elements() == 1 ? 0 : c];
    const float acc =
        xs->data_as<float>()[0] * ws->data_as<float>()[ws->num_elements() == 1 ? 0 : c];
    // Converters store s_x·s_w rounded once (float or double product): a few ulp at most.
    if (std::abs(sb - acc) > 1e-6f * acc) return FoldBiasToFloat(g, value);
  }
  return b->q_value;
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
