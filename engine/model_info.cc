#include "engine/model_info.h"

#include <climits>
#include <unordered_map>

#include "engine/import/model_file.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine {
namespace {

// Where a node keeps the affine quantization of one of its tensors: the tensor's slot
// and the input indices of its scale and zero point. A kReal slot is the float side of a
// QuantizeLinear / DequantizeLinear (the value before quantizing / after dequantizing):
// it carries the parameters too, so that a float graph input that is immediately
// quantized shows callers the int8 boundary, but it never overrides parameters set by
// the tensor's own quantized producer or consumer.
enum class Side { kInput, kOutput };
enum class Role { kQuantized, kReal };
constexpr int kAxisAttribute = INT_MIN;  // per-axis along the node's "axis" (default 1)
struct QuantizedSlot {
  Side side;
  int index;
  int scale;       // input index
  int zero_point;  // input index
  Role role;
  int axis;  // of per-axis parameters (more than one scale)
};
struct QuantizedOp {
  const char* domain;  // as in ir::Node ("" for ONNX)
  const char* op_type;
  std::vector<QuantizedSlot> slots;
};

// The ops whose scale / zero-point inputs describe their operands, from the ONNX and
// com.microsoft operator definitions. Per-axis parameters: QuantizeLinear /
// DequantizeLinear along "axis"; QLinearMatMul's b per column (the last axis of [K,N]);
// QLinearConv's w per output channel (axis 0 of [M,C/g,kH,kW]); the rest per-tensor.
const std::vector<QuantizedOp>& QuantizedOps() {
  static const auto* ops = [] {
    constexpr Side in = Side::kInput, out = Side::kOutput;
    constexpr Role q = Role::kQuantized, real = Role::kReal;
    constexpr int attr = kAxisAttribute;
    // A, B → C (com.microsoft element-wise ops), per-tensor.
    const std::vector<QuantizedSlot> elementwise = {
        {in, 0, 1, 2, q, 0}, {in, 3, 4, 5, q, 0}, {out, 0, 6, 7, q, 0}};
    return new std::vector<QuantizedOp>{
        // clang-format off
        {"", "QuantizeLinear",   {{in, 0, 1, 2, real, attr}, {out, 0, 1, 2, q, attr}}},
        {"", "DequantizeLinear", {{in, 0, 1, 2, q, attr}, {out, 0, 1, 2, real, attr}}},
        {"", "QLinearMatMul",    {{in, 0, 1, 2, q, 0}, {in, 3, 4, 5, q, -1}, {out, 0, 6, 7, q, 0}}},
        {"", "QLinearConv",      {{in, 0, 1, 2, q, 1}, {in, 3, 4, 5, q, 0}, {out, 0, 6, 7, q, 1}}},
        {"com.microsoft", "QLinearAdd", elementwise},
        {"com.microsoft", "QLinearMul", elementwise},
        {"com.microsoft", "QLinearGlobalAveragePool", {{in, 0, 1, 2, q, 1}, {out, 0, 3, 4, q, 1}}},
        // clang-format on
    };
  }();
  return *ops;
}

const QuantizedOp* FindQuantizedOp(const ir::Node& n) {
  for (const QuantizedOp& op : QuantizedOps()) {
    if (n.domain == op.domain && n.op_type == op.op_type) return &op;
  }
  return nullptr;
}

// The tensor in a slot; "" when the node omits it.
std::string SlotTensor(const ir::Node& n, const QuantizedSlot& slot) {
  if (slot.side == Side::kInput) return n.Input(slot.index);
  const auto i = static_cast<size_t>(slot.index);
  return i < n.outputs.size() ? n.outputs[i] : std::string();
}

// The parameters of one slot when its scale and zero point are constants; nullopt
// otherwise (runtime parameters are not known before a run). An omitted zero point
// means 0 in uint8, as in QuantizeLinear's definition.
std::optional<QuantParams> SlotParams(const ir::Graph& g, const ir::Node& n,
                                      const QuantizedSlot& slot) {
  const Tensor* scale = g.FindConstant(n.Input(slot.scale));
  if (scale == nullptr || scale->dtype() != DType::kFloat32) return std::nullopt;
  const std::string& zp_name = n.Input(slot.zero_point);
  const Tensor* zp = zp_name.empty() ? nullptr : g.FindConstant(zp_name);
  if (!zp_name.empty() && zp == nullptr) return std::nullopt;
  QuantParams q;
  q.scales = dnnl_backend::FloatValues(*scale);
  if (zp) {
    for (int32_t z : dnnl_backend::IntValues(*zp)) q.zero_points.push_back(z);
    q.storage = zp->dtype();
  } else {
    q.zero_points.assign(q.scales.size(), 0);
    q.storage = DType::kUint8;
  }
  if (q.scales.size() > 1) {
    q.axis = slot.axis == kAxisAttribute ? static_cast<int>(n.GetInt("axis", 1)) : slot.axis;
  }
  return q;
}

}  // namespace

ModelInfo DescribeGraph(const ir::Graph& g, const std::string& path, const std::string& format) {
  ModelInfo info;
  info.path = path;
  info.format = format;
  info.producer = g.producer;
  info.metadata = g.metadata;
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
      if (auto o = g.original_names.find(name); o != g.original_names.end()) {
        it->second.original_name = o->second;
      }
      it->second.name_generated = g.generated_names.count(name) > 0;
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
    info.nodes.push_back(NodeInfo{node.name, node.op_type, node.domain, node.inputs, node.outputs});
    for (const auto& out : node.outputs) {
      TensorInfo& t = touch(out);
      t.producer_op = node.op_type;
      t.producer_node = node.name;
    }
    const QuantizedOp* op = FindQuantizedOp(node);
    if (op == nullptr) continue;
    for (const QuantizedSlot& slot : op->slots) {
      const std::string name = SlotTensor(node, slot);
      // Constants (weights, biases) are not tensors a caller binds; skip them.
      if (name.empty() || g.FindConstant(name)) continue;
      auto q = SlotParams(g, node, slot);
      if (!q) continue;
      TensorInfo& t = touch(name);
      if (slot.role == Role::kReal) {
        if (!t.quant) t.quant = std::move(q);
        if (t.dtype == DType::kUnknown) t.dtype = DType::kFloat32;
      } else {
        if (t.dtype == DType::kUnknown) t.dtype = q->storage;
        t.quant = std::move(q);
      }
    }
  }
  for (const auto& out : g.outputs) annotate(out);
  // Identity nodes pass quantization through (exporters add them to name outputs).
  for (const auto& node : g.nodes) {
    if (node.op_type == "Identity" && node.domain.empty() && by_name.count(node.Input(0)) &&
        by_name[node.Input(0)].quant && !by_name[node.outputs[0]].quant) {
      by_name[node.outputs[0]].quant = by_name[node.Input(0)].quant;
    }
  }
  for (const auto& name : order) info.tensors.push_back(by_name[name]);
  for (const auto& in : g.inputs) info.inputs.push_back(by_name[in.name]);
  for (const auto& out : g.outputs) info.outputs.push_back(by_name[out.name]);
  return info;
}

// num_int8_kernels stays 0: nothing is compiled here.
absl::StatusOr<ModelInfo> DescribeModelFile(const std::string& path) {
  auto imported = ImportModelFile(path);
  if (!imported.ok()) return imported.status();
  return DescribeGraph(imported->graph, path, imported->format);
}

std::vector<std::string> ModelFileNames() { return KnownModelFileNames(); }
std::vector<std::string> ModelFileNames(const std::string& format) {
  return KnownModelFileNames(format);
}
std::vector<std::string> ModelFormatNames() { return KnownModelFormatNames(); }

}  // namespace q8::engine
