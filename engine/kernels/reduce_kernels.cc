// ReduceMean: y = Σ_axes x / Π_axes d, over the `axes` attribute (opset 1–17; opset 18 gives
// them as input 1, constant here), all axes when there are none, the reduced dims kept as 1
// when keepdims (default 1) and dropped otherwise. On oneDNN's reduction primitive
// (reduction_mean), which wants source and destination of one rank with the reduced dims 1:
// without keepdims only the output's shape differs, not its bytes.
//
// What needs it: normalisations spelled as ops, as exporters write LayerNormalization before
// opset 17 (ReduceMean ─ Sub ─ Pow ─ ReduceMean ─ Add ─ Sqrt ─ Div, which
// passes/fuse_layer_norm.cc turns back into one LayerNormalization when it can), and
// TFLite's MEAN over other than the spatial axes.
#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;

class ReduceMeanKernel final : public Kernel {
 public:
  ReduceMeanKernel(std::vector<int64_t> axes, bool keepdims, bool noop_with_empty_axes)
      : axes_(std::move(axes)), keepdims_(keepdims), noop_with_empty_axes_(noop_with_empty_axes) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != DType::kFloat32) {
      return absl::UnimplementedError(
          absl::StrCat("ReduceMean of ", DTypeName(x.dtype), " (supported: float32)"));
    }
    const size_t rank = x.shape.size();
    if (rank > 6) {
      return absl::UnimplementedError(absl::StrCat("ReduceMean of rank ", rank, " (at most 6)"));
    }
    auto r = PlanReduction(x.shape, axes_, keepdims_, !noop_with_empty_axes_);
    if (!r.ok()) return r.status();
    PlannedStep p;
    p.outputs = {ValueDesc{DType::kFloat32, r->out}};
    const int64_t n = NumElements(x.shape);
    if (r->count == 1) {
      // Nothing to average (every reduced dim is 1, or a scalar): a copy. oneDNN refuses
      // a reduction whose source and destination are the same.
      p.step = std::make_unique<FunctionStep>([n](const StepContext& c) {
        std::memcpy(c.outputs[0], c.inputs[0], static_cast<size_t>(n) * sizeof(float));
      });
      return p;
    }
    const memory::desc src = MemoryDesc(x);
    const memory::desc dst = MemoryDesc(ValueDesc{DType::kFloat32, r->kept});
    dnnl::reduction::primitive_desc pd(
        dnnl::reduction::desc(dnnl::algorithm::reduction_mean, src, dst, 0.f, 0.f),
        UserScratchpadAttr(), CpuEngine());
    p.step = std::make_unique<PrimitiveStep>(
        dnnl::reduction(pd), std::vector<PrimitiveStep::Arg>{{DNNL_ARG_SRC, src}},
        std::vector<PrimitiveStep::Arg>{{DNNL_ARG_DST, dst}}, pd.scratchpad_desc());
    return p;
  }

 private:
  const std::vector<int64_t> axes_;
  const bool keepdims_, noop_with_empty_axes_;
};

absl::StatusOr<BuiltKernel> BuildReduceMean(const ir::Node& n, const ir::Graph& g) {
  std::vector<int64_t> axes = n.GetInts("axes");
  if (!n.Input(1).empty()) {  // opset 18: axes as an input
    auto t = RequireConstant(n, g, 1);
    if (!t.ok()) return t.status();
    if ((*t)->dtype() != DType::kInt64 || (*t)->shape().size() > 1) {
      return absl::InvalidArgumentError("ReduceMean's axes input must be a 0-/1-D int64 tensor");
    }
    axes.assign((*t)->data_as<int64_t>(), (*t)->data_as<int64_t>() + (*t)->num_elements());
  }
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ReduceMean lists an axis twice: [", absl::StrJoin(axes, ","), "]"));
  }
  return BuiltKernel{std::make_unique<ReduceMeanKernel>(std::move(axes),
                                                        n.GetInt("keepdims", 1) != 0,
                                                        n.GetInt("noop_with_empty_axes", 0) != 0),
                     {n.Input(0)}};
}

}  // namespace

void RegisterReduceKernels(std::map<std::string, KernelBuilder>& r) {
  r["ReduceMean"] = BuildReduceMean;
}

}  // namespace q8::engine::dnnl_backend
