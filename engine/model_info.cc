#include "engine/model_info.h"

#include <unordered_map>

#include "engine/kernels/kernel_util.h"

namespace q8::engine {
namespace {

// Quantization parameters of a QuantizeLinear / DequantizeLinear node whose scale and
// zero point are constants; nullopt otherwise.
std::optional<QuantParams> QdqParams(const ir::Graph& g, const ir::Node& n) {
  const Tensor* scale = g.FindConstant(n.Input(1));
  if (scale == nullptr || scale->dtype() != DType::kFloat32) return std::nullopt;
  const Tensor* zp = n.Input(2).empty() ? nullptr : g.FindConstant(n.Input(2));
  if (!n.Input(2).empty() && zp == nullptr) return std::nullopt;
  QuantParams q;
  q.scales = dnnl_backend::FloatValues(*scale);
  if (zp) {
    for (int32_t z : dnnl_backend::IntValues(*zp)) q.zero_points.push_back(z);
    q.storage = zp->dtype();
  } else {
    q.zero_points.assign(q.scales.size(), 0);
    q.storage = DType::kUint8;
  }
  if (q.scales.size() > 1) q.axis = static_cast<int>(n.GetInt("axis", 1));
  return q;
}

bool Is(const ir::Node& n, const char* op) { return n.op_type == op && n.domain.empty(); }

}  // namespace

ModelInfo DescribeGraph(const ir::Graph& g, const std::string& path, const std::string& format) {
  ModelInfo info;
  info.path = path;
  info.format = format;
  info.producer = g.producer;
  info.num_nodes = static_cast<int>(g.nodes.size());

  std::unordered_map<std::string, TensorInfo> by_name;
  std::vector<std::string> order;
  auto touch = [&](const std::string& name) -> TensorInfo& {
    auto [it, inserted] = by_name.try_emplace(name);
    if (inserted) {
      order.push_back(name);
      it->second.name = name;
      if (auto vi = g.value_info.find(name); vi != g.value_info.end()) {
        it->second.dtype = vi->second.dtype;
        if (vi->second.shape) it->second.shape = *vi->second.shape;
      }
    }
    return it->second;
  };
  auto annotate = [&](const ir::ValueInfo& vi) {
    TensorInfo& t = touch(vi.name);
    t.dtype = vi.dtype;
    if (vi.shape) t.shape = *vi.shape;
  };
  for (const auto& in : g.inputs) annotate(in);
  for (const auto& node : g.nodes) {
    for (const auto& out : node.outputs) {
      TensorInfo& t = touch(out);
      t.producer_op = node.op_type;
      t.producer_node = node.name;
    }
    // The quantized side of a Q/DQ pair carries its parameters; so does the float side
    // at the graph boundary (a float input that is immediately quantized).
    if (Is(node, "QuantizeLinear") || Is(node, "DequantizeLinear")) {
      if (auto q = QdqParams(g, node)) {
        const std::string& quantized = Is(node, "QuantizeLinear") ? node.outputs[0] : node.Input(0);
        if (!g.FindConstant(quantized)) {
          TensorInfo& t = touch(quantized);
          t.quant = q;
          if (t.dtype == DType::kUnknown) t.dtype = q->storage;
        }
        const std::string& real = Is(node, "QuantizeLinear") ? node.Input(0) : node.outputs[0];
        if (!g.FindConstant(real)) {
          TensorInfo& t = touch(real);
          if (!t.quant) t.quant = q;
          if (t.dtype == DType::kUnknown) t.dtype = DType::kFloat32;
        }
      }
    }
  }
  for (const auto& out : g.outputs) annotate(out);
  // Identity nodes pass quantization through (exporters add them to name outputs).
  for (const auto& node : g.nodes) {
    if (Is(node, "Identity") && by_name.count(node.Input(0)) && by_name[node.Input(0)].quant &&
        !by_name[node.outputs[0]].quant) {
      by_name[node.outputs[0]].quant = by_name[node.Input(0)].quant;
    }
  }
  for (const auto& name : order) info.tensors.push_back(by_name[name]);
  for (const auto& in : g.inputs) info.inputs.push_back(by_name[in.name]);
  for (const auto& out : g.outputs) info.outputs.push_back(by_name[out.name]);
  return info;
}

}  // namespace q8::engine
