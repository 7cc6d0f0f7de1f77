// q8.QAdd (folded DQ(a) + DQ(b) → Add → [Relu] → Q) and com.microsoft QLinearAdd: the int8
// residual add on one oneDNN binary primitive:
//
//   y   = s_a·(a_q - z_a) + s_b·(b_q - z_b)                    (model value)
//   y_q = saturate(round_half_even(act(y) / s_y) + z_y)
//
// As oneDNN 2.x computes it: src scales s_a/s_y and s_b/s_y on the two inputs, then the
// post-op linear(1, z_y - (s_a·z_a + s_b·z_b)/s_y) (now y/s_y + z_y), with ReLU then
// clip(z_y, ∞) (relu(v) + z_y = max(v + z_y, z_y)), then the saturating round.
// Layout-agnostic: both inputs and the output share a layout; when one input is plain
// and the other channels-last, the plain one is reordered into the workspace first.
// Broadcasting (numpy rules) when one operand's shape broadcasts to the other's, e.g. a
// per-channel [1,C,1,1] term: oneDNN broadcasts its second source, so that one goes there
// (addition commutes; its scale goes with it).
#include <algorithm>
#include <cfloat>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/channels_last_input.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"
#include "engine/kernels/tensor_quant.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;

struct QAddParams {
  float scale[2] = {1.f, 1.f};  // s_a/s_y, s_b/s_y
  float offset = 0.f;           // -(s_a·z_a + s_b·z_b)/s_y
  int32_t y_zero_point = 0;
  DType in_dtype[2] = {DType::kUint8, DType::kUint8};
  DType out_dtype = DType::kUint8;
  bool relu = false;
};

// a_ and b_ prepare the node's inputs 0 and 1; `swap`: input 1 is oneDNN's source 0.
class QAddStep final : public Step {
 public:
  QAddStep(const dnnl::binary::primitive_desc& pd, ChannelsLastInput a, ChannelsLastInput b,
           bool swap)
      : add_(pd), src0_(pd.src_desc(0)), src1_(pd.src_desc(1)), dst_(pd.dst_desc()),
        scratchpad_(pd.scratchpad_desc()), a_(std::move(a)), b_(std::move(b)), swap_(swap) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    // At most one operand needs a reorder (the workspace is used once).
    const void* in0 = a_.Prepare(c, c.inputs[0]);
    const void* in1 = b_.Prepare(c, c.inputs[1]);
    const void* a = swap_ ? in1 : in0;
    const void* b = swap_ ? in0 : in1;
    add_.execute(c.stream, {{DNNL_ARG_SRC_0, memory(src0_, eng, const_cast<void*>(a))},
                            {DNNL_ARG_SRC_1, memory(src1_, eng, const_cast<void*>(b))},
                            {DNNL_ARG_DST, memory(dst_, eng, c.outputs[0])},
                            {DNNL_ARG_SCRATCHPAD, memory(scratchpad_, eng, c.scratchpad)}});
  }
  size_t scratchpad_bytes() const override {
    return std::max({scratchpad_.get_size(), a_.scratchpad_bytes(), b_.scratchpad_bytes()});
  }
  size_t workspace_bytes() const override {
    return std::max(a_.workspace_bytes(), b_.workspace_bytes());
  }

 private:
  const dnnl::binary add_;
  const memory::desc src0_, src1_, dst_, scratchpad_;
  const ChannelsLastInput a_, b_;
  const bool swap_;
};

class QAddKernel final : public Kernel {
 public:
  explicit QAddKernel(QAddParams p) : p_(p) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    for (int i = 0; i < 2; ++i) {
      if (in[i].dtype != p_.in_dtype[i]) {
        return absl::InvalidArgumentError(absl::StrCat("input #", 3 * i, " must be ",
                                                       DTypeName(p_.in_dtype[i]), ", got ",
                                                       DTypeName(in[i].dtype)));
      }
    }
    if (in[0].shape.empty() || in[1].shape.empty()) {
      return absl::UnimplementedError("int8 add of a scalar (rank 0) operand");
    }
    auto out = BroadcastShape(in[0].shape, in[1].shape);
    if (!out.ok()) return out.status();
    // oneDNN broadcasts its second source only: the full-shape operand goes first.
    const bool swap = in[0].shape != *out;
    const ValueDesc& full = swap ? in[1] : in[0];
    const ValueDesc& part = swap ? in[0] : in[1];
    if (full.shape != *out) {
      return absl::UnimplementedError(absl::StrCat(
          "int8 add of shapes ", ShapeToString(in[0].shape), " and ", ShapeToString(in[1].shape),
          " (one must broadcast to the other)"));
    }
    // Leading 1s: oneDNN's binary wants operands of one rank.
    Shape part_shape(out->size() - part.shape.size(), 1);
    part_shape.insert(part_shape.end(), part.shape.begin(), part.shape.end());
    // The output (and both operands) take the channels-last layout if either has it.
    const Layout layout = in[0].layout == Layout::kChannelsLast || in[1].layout == Layout::kChannelsLast
                              ? Layout::kChannelsLast : Layout::kPlain;
    const memory::desc a = MemoryDesc(ValueDesc{full.dtype, full.shape, layout});
    const memory::desc b = MemoryDesc(ValueDesc{part.dtype, part_shape, layout});
    const ValueDesc y{p_.out_dtype, full.shape, layout};
    dnnl::primitive_attr attr = UserScratchpadAttr();
    attr.set_scales(DNNL_ARG_SRC_0, 0, {p_.scale[swap ? 1 : 0]});
    attr.set_scales(DNNL_ARG_SRC_1, 0, {p_.scale[swap ? 0 : 1]});
    dnnl::post_ops ops;
    const auto linear = dnnl::algorithm::eltwise_linear;
    const float z_y = static_cast<float>(p_.y_zero_point);
    ops.append_eltwise(1.f, linear, 1.f, p_.offset + z_y);
    // relu(v) + z_y = max(v + z_y, z_y)
    if (p_.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, z_y, FLT_MAX);
    attr.set_post_ops(ops);
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_add, a, b, MemoryDesc(y)),
        attr, CpuEngine());
    PlannedStep planned;
    // Each step input is one of the node's operands in their order: source 0 and 1 follow.
    const ValueDesc part_view{part.dtype, part_shape, part.layout};
    planned.step = swap ? std::make_unique<QAddStep>(pd, ChannelsLastInput(part_view, b),
                                                     ChannelsLastInput(full, a), /*swap=*/true)
                        : std::make_unique<QAddStep>(pd, ChannelsLastInput(full, a),
                                                     ChannelsLastInput(part_view, b), false);
    planned.outputs = {y};
    return planned;
  }

  bool is_int8() const override { return true; }
  bool accepts_channels_last() const override { return true; }

 private:
  const QAddParams p_;
};

// Inputs (QLinearAdd's order): a_q, a_scale, a_zp, b_q, b_scale, b_zp, y_scale, y_zp; all
// but a_q and b_q constant and per-tensor. q8.QAdd may carry activation = "Relu".
absl::StatusOr<BuiltKernel> BuildQAdd(const ir::Node& node, const ir::Graph& graph) {
  TensorQuant q[3];
  constexpr size_t kScaleInput[3] = {1, 4, 6};
  for (int i = 0; i < 3; ++i) {
    auto read = ReadTensorQuant(node, graph, kScaleInput[i]);
    if (!read.ok()) return read.status();
    q[i] = *read;
  }
  QAddParams p;
  p.scale[0] = q[0].scale / q[2].scale;
  p.scale[1] = q[1].scale / q[2].scale;
  p.offset = -(q[0].scale * static_cast<float>(q[0].zero_point) +
               q[1].scale * static_cast<float>(q[1].zero_point)) / q[2].scale;
  p.y_zero_point = q[2].zero_point;
  p.in_dtype[0] = q[0].dtype;
  p.in_dtype[1] = q[1].dtype;
  p.out_dtype = q[2].dtype;
  p.relu = node.GetString("activation", "") == "Relu";
  return BuiltKernel{std::make_unique<QAddKernel>(p), {node.Input(0), node.Input(3)}};
}

}  // namespace

void RegisterQAddKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.QAdd"] = BuildQAdd;
  registry["com.microsoft.QLinearAdd"] = BuildQAdd;
}

}  // namespace q8::engine::dnnl_backend
