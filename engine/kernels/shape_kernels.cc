// Ops that only change the shape: Flatten and Reshape. The data is copied unchanged
// (row-major order is preserved); the new shape is computed at plan time.
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

PlannedStep CopyAs(const ValueDesc& in, Shape out) {
  const size_t bytes = static_cast<size_t>(NumElements(in.shape)) * DTypeSize(in.dtype);
  PlannedStep p;
  p.step = std::make_unique<FunctionStep>(
      [bytes](const StepContext& c) { std::memcpy(c.outputs[0], c.inputs[0], bytes); });
  p.outputs = {ValueDesc{in.dtype, std::move(out)}};
  return p;
}

class FlattenKernel final : public Kernel {
 public:
  explicit FlattenKernel(int64_t axis) : axis_(axis) {}
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const int64_t rank = static_cast<int64_t>(in[0].shape.size());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis > rank) {
      return absl::InvalidArgumentError(absl::StrCat("axis ", axis_, " out of range for rank ", rank));
    }
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= in[0].shape[d];
    return CopyAs(in[0], {outer, NumElements(in[0].shape) / std::max<int64_t>(outer, 1)});
  }

 private:
  const int64_t axis_;
};

// ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred.
class ReshapeKernel final : public Kernel {
 public:
  ReshapeKernel(std::vector<int64_t> target, bool allow_zero)
      : target_(std::move(target)), allow_zero_(allow_zero) {}
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& src = in[0].shape;
    Shape out(target_.size());
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < target_.size(); ++i) {
      int64_t d = target_[i];
      if (d == 0 && !allow_zero_) {
        if (i >= src.size()) return absl::InvalidArgumentError("0 in shape beyond input rank");
        d = src[i];
      }
      if (d == -1) {
        if (infer >= 0) return absl::InvalidArgumentError("more than one -1 in shape");
        infer = static_cast<int>(i);
        continue;
      }
      if (d < 0) return absl::InvalidArgumentError(absl::StrCat("invalid dim ", d, " in shape"));
      out[i] = d;
      known *= d;
    }
    const int64_t total = NumElements(src);
    if (infer >= 0) {
      if (known == 0 || total % known != 0) {
        return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", ShapeToString(src),
                                                       " to ", ShapeToString(target_)));
      }
      out[infer] = total / known;
    } else if (known != total) {
      return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", ShapeToString(src), " (",
                                                     total, " elements) to ", ShapeToString(out)));
    }
    return CopyAs(in[0], std::move(out));
  }

 private:
  const std::vector<int64_t> target_;
  const bool allow_zero_;
};

}  // namespace

void RegisterShapeKernels(std::map<std::string, KernelBuilder>& r) {
  r["Flatten"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<FlattenKernel>(n.GetInt("axis", 1)), {n.Input(0)}};
  };
  r["Reshape"] = [](const ir::Node& n, const ir::Graph& g) -> absl::StatusOr<BuiltKernel> {
    auto shape = RequireConstant(n, g, 1);
    if (!shape.ok()) return shape.status();
    if ((*shape)->dtype() != DType::kInt64 || (*shape)->shape().size() != 1) {
      return absl::InvalidArgumentError("shape must be a 1-D int64 tensor");
    }
    const int64_t* p = (*shape)->data_as<int64_t>();
    std::vector<int64_t> target(p, p + (*shape)->num_elements());
    return BuiltKernel{std::make_unique<ReshapeKernel>(std::move(target), n.GetInt("allowzero", 0) != 0),
                       {n.Input(0)}};
  };
}

}  // namespace q8::engine::dnnl_backend
