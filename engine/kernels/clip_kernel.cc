// Clip (opset 6 attributes min/max, opset ≥ 11 optional inputs min/max, read at run time):
// y = min(max(x, lo), hi), element by element, for float32 / uint8 / int8. Layout-agnostic
// (the output keeps the input's layout). Relu6 is Clip(0, 6); a Clip right after a QDQ
// convolution is fused into q8.QConv instead (fold_qdq_conv.cc).
#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

template <typename T>
void ClipLoop(const StepContext& c, int64_t n, int lo_input, int hi_input, float lo_attr,
              float hi_attr) {
  T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  if (lo_input >= 0) {
    lo = *static_cast<const T*>(c.inputs[lo_input]);
  } else if (lo_attr > static_cast<float>(lo)) {
    lo = static_cast<T>(lo_attr);
  }
  if (hi_input >= 0) {
    hi = *static_cast<const T*>(c.inputs[hi_input]);
  } else if (hi_attr < static_cast<float>(hi)) {
    hi = static_cast<T>(hi_attr);
  }
  const T* x = static_cast<const T*>(c.inputs[0]);
  T* y = static_cast<T*>(c.outputs[0]);
  for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], lo), hi);
}

class ClipKernel final : public Kernel {
 public:
  ClipKernel(int lo_input, int hi_input, float lo_attr, float hi_attr)
      : lo_input_(lo_input), hi_input_(hi_input), lo_attr_(lo_attr), hi_attr_(hi_attr) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const DType t = in[0].dtype;
    for (int b : {lo_input_, hi_input_}) {
      if (b >= 0 && (in[b].dtype != t || NumElements(in[b].shape) != 1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "min / max must be scalars of the input's type ", DTypeName(t)));
      }
    }
    const int64_t n = NumElements(in[0].shape);
    const int lo = lo_input_, hi = hi_input_;
    const float lo_attr = lo_attr_, hi_attr = hi_attr_;
    std::function<void(const StepContext&)> run;
    switch (t) {
      case DType::kFloat32:
        run = [=](const StepContext& c) { ClipLoop<float>(c, n, lo, hi, lo_attr, hi_attr); };
        break;
      case DType::kUint8:
        run = [=](const StepContext& c) { ClipLoop<uint8_t>(c, n, lo, hi, lo_attr, hi_attr); };
        break;
      case DType::kInt8:
        run = [=](const StepContext& c) { ClipLoop<int8_t>(c, n, lo, hi, lo_attr, hi_attr); };
        break;
      default:
        return absl::UnimplementedError(absl::StrCat("Clip of ", DTypeName(t),
                                                     " (float32, uint8, int8)"));
    }
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(std::move(run));
    p.outputs = {in[0]};
    return p;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const int lo_input_, hi_input_;  // runtime input index of min / max, or -1
  const float lo_attr_, hi_attr_;  // opset-6 attributes (or ±FLT_MAX)
};

absl::StatusOr<BuiltKernel> BuildClip(const ir::Node& node, const ir::Graph&) {
  BuiltKernel built;
  built.runtime_inputs.push_back(node.Input(0));
  int bound[2] = {-1, -1};
  for (int i = 0; i < 2; ++i) {
    if (node.Input(1 + i).empty()) continue;
    bound[i] = static_cast<int>(built.runtime_inputs.size());
    built.runtime_inputs.push_back(node.Input(1 + i));
  }
  built.kernel = std::make_unique<ClipKernel>(bound[0], bound[1],
                                              node.GetFloat("min", std::numeric_limits<float>::lowest()),
                                              node.GetFloat("max", std::numeric_limits<float>::max()));
  return built;
}

}  // namespace

void RegisterClipKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["Clip"] = BuildClip;
}

}  // namespace q8::engine::dnnl_backend
