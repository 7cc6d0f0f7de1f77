// q8.StridedSlice (TFLite STRIDED_SLICE, normalised by the importer): for every output
// index j, y[j] = x[starts + j·steps] along each axis, any element type. Attributes
// `starts`, `steps` (non-zero, negative walks backwards) and `sizes` (the output shape),
// one per input axis; the importer has already clamped them into range.
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

class StridedSliceKernel final : public Kernel {
 public:
  StridedSliceKernel(std::vector<int64_t> starts, std::vector<int64_t> steps, Shape sizes)
      : starts_(std::move(starts)), steps_(std::move(steps)), sizes_(std::move(sizes)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& x = in[0].shape;
    const size_t rank = x.size();
    if (starts_.size() != rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", ShapeToString(x), " is not rank ", starts_.size()));
    }
    for (size_t d = 0; d < rank; ++d) {
      const int64_t last = starts_[d] + (sizes_[d] - 1) * steps_[d];
      if (sizes_[d] > 0 && (starts_[d] < 0 || starts_[d] >= x[d] || last < 0 || last >= x[d])) {
        return absl::InvalidArgumentError(absl::StrCat("slice out of range of ", ShapeToString(x)));
      }
    }
    const size_t width = DTypeSize(in[0].dtype);
    Shape strides(rank, 1);
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * x[d + 1];
    auto run = [=, starts = starts_, steps = steps_, sizes = sizes_](const StepContext& c) {
      const auto* src = static_cast<const uint8_t*>(c.inputs[0]);
      auto* out = static_cast<uint8_t*>(c.outputs[0]);
      const int64_t n = NumElements(sizes);
      std::vector<int64_t> idx(rank, 0);
      for (int64_t j = 0; j < n; ++j) {
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) off += (starts[d] + idx[d] * steps[d]) * strides[d];
        std::memcpy(out + j * width, src + off * width, width);
        for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
          if (++idx[d] < sizes[d]) break;
          idx[d] = 0;
        }
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(std::move(run));
    p.outputs = {ValueDesc{in[0].dtype, sizes_}};
    return p;
  }

 private:
  const std::vector<int64_t> starts_, steps_;
  const Shape sizes_;
};

absl::StatusOr<BuiltKernel> BuildStridedSlice(const ir::Node& node, const ir::Graph&) {
  auto starts = node.GetInts("starts"), steps = node.GetInts("steps"),
       sizes = node.GetInts("sizes");
  if (steps.size() != starts.size() || sizes.size() != starts.size()) {
    return absl::InvalidArgumentError("starts, steps and sizes must have one value per axis");
  }
  for (size_t d = 0; d < steps.size(); ++d) {
    if (steps[d] == 0 || sizes[d] < 0)
      return absl::InvalidArgumentError("a step of 0 or a negative size");
  }
  return BuiltKernel{std::make_unique<StridedSliceKernel>(starts, steps, sizes), {node.Input(0)}};
}

}  // namespace

void RegisterStridedSliceKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.StridedSlice"] = BuildStridedSlice;
}

}  // namespace q8::engine::dnnl_backend
