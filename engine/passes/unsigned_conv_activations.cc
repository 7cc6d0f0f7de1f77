// UnsignedConvActivations: an int8 activation passed only between int8 convolutions /
// matrix products is stored as uint8 instead, shifted by 128:
//
//   QConv ─(int8, z)→ QConv          ⇒   QConv ─(uint8, z + 128)→ QConv
//
// Exact: q_u8 = q_s8 + 128 and z_u8 = z_s8 + 128 give the same q - z, so every accumulator,
// the requantization and the saturation (to [0, 255] instead of [-128, 127], i.e. the same
// values) are unchanged. Why: oneDNN 2.6's fastest depthwise kernel (brdgmm) takes u8 sources
// only, and a TFLite ReLU6 tensor (int8, z = -128) becomes uint8 with z = 0, which needs no
// zero-point handling at all. Values that a graph output, or any other kind of node reads,
// keep their type.
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "engine/passes/passes.h"
#include "engine/passes/qdq_match.h"

namespace q8::engine::passes {
namespace {

// Inputs holding the zero point of a node's input 0 and of its output (QLinearConv's and
// QLinearMatMul's order, which q8.QConv and q8.QGemm keep).
constexpr size_t kXZeroPoint = 2, kYZeroPoint = 7;

bool IsInt8Kernel(const ir::Node& n) {
  return n.domain == "q8" && (n.op_type == "QConv" || n.op_type == "QGemm");
}

// The int8 per-tensor zero point constant at input `i`, if that is what it is.
const Tensor* Int8ZeroPoint(const ir::Graph& g, const ir::Node& n, size_t i) {
  const Tensor* t = n.Input(i).empty() ? nullptr : g.FindConstant(n.Input(i));
  return t && t->dtype() == DType::kInt8 && t->num_elements() == 1 ? t : nullptr;
}

}  // namespace

absl::Status UnsignedConvActivations(ir::Graph& graph) {
  for (size_t p = 0; p < graph.nodes.size(); ++p) {
    const ir::Node& producer = graph.nodes[p];
    if (!IsInt8Kernel(producer) || producer.outputs.size() != 1) continue;
    const std::string& value = producer.outputs[0];
    const Tensor* z = Int8ZeroPoint(graph, producer, kYZeroPoint);
    if (z == nullptr || graph.IsGraphOutput(value)) continue;
    const std::vector<int> readers = graph.ConsumersOf(value);
    bool only_kernels = !readers.empty();
    for (int r : readers) {
      const ir::Node& n = graph.nodes[static_cast<size_t>(r)];
      only_kernels =
          only_kernels && IsInt8Kernel(n) && n.Input(0) == value &&
          Int8ZeroPoint(graph, n, kXZeroPoint) != nullptr &&
          *Int8ZeroPoint(graph, n, kXZeroPoint)->data_as<int8_t>() == *z->data_as<int8_t>();
      for (size_t i = 1; i < n.inputs.size(); ++i)
        only_kernels = only_kernels && n.inputs[i] != value;
    }
    if (!only_kernels) continue;
    Tensor shifted(DType::kUint8, {});
    *shifted.data_as<uint8_t>() = static_cast<uint8_t>(*z->data_as<int8_t>() + 128);
    const std::string name = absl::StrCat(value, ":zero_point_u8");
    graph.constants[name] = std::make_shared<const Tensor>(std::move(shifted));
    graph.nodes[p].inputs[kYZeroPoint] = name;
    for (int r : readers) graph.nodes[static_cast<size_t>(r)].inputs[kXZeroPoint] = name;
    if (auto vi = graph.value_info.find(value); vi != graph.value_info.end()) {
      vi->second.dtype = DType::kUint8;
    }
  }
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
