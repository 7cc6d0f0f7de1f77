// Ops that only change the shape: Flatten and Reshape. The data is copied unchanged
// (row-major order is preserved); the new shape is computed at plan time, from a constant
// shape or from a shape graph input the plan is specialised on (BuiltKernel::value_inputs).
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  bool accepts_empty_tensors() const override { return true; }
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

// ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred. Errors quote
// the shape as given ("[2,-1,-1]"), since it may come from a run-time input.
absl::StatusOr<Shape> ReshapedDims(const Shape& src, const std::vector<int64_t>& target,
                                   bool allow_zero) {
  const std::string asked = absl::StrCat("shape [", absl::StrJoin(target, ","), "]");
  const std::string cannot = absl::StrCat("cannot reshape ", ShapeToString(src), " (",
                                          NumElements(src), " elements) to ", asked);
  Shape out(target.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allow_zero) {
      if (i >= src.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(cannot, ": its 0 at position ", i, " copies no input dim"));
      }
      d = src[i];
    }
    if (d == -1) {
      if (infer >= 0) return absl::InvalidArgumentError(absl::StrCat(cannot, ": more than one -1"));
      infer = static_cast<int>(i);
      continue;
    }
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(cannot, ": dim ", d, " at position ", i,
                                                     " (dims are >= 0, or -1 to infer)"));
    }
    out[i] = d;
    known *= d;
  }
  const int64_t total = NumElements(src);
  if (infer >= 0) {
    // known == 0: a 0 dim leaves the -1 undetermined (with allowzero, ONNX forbids both).
    if (known == 0 || total % known != 0) return absl::InvalidArgumentError(cannot);
    out[infer] = total / known;
  } else if (known != total) {
    return absl::InvalidArgumentError(absl::StrCat(cannot, ": that is ", known, " elements"));
  }
  return out;
}

class ReshapeKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  // `target` nullopt: the shape is the node's second runtime input, read at plan time.
  ReshapeKernel(std::optional<std::vector<int64_t>> target, bool allow_zero)
      : target_(std::move(target)), allow_zero_(allow_zero) {}
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    std::vector<int64_t> target;
    if (target_) {
      target = *target_;
    } else {
      auto given = PlanTimeInts(in[1], "shape");
      if (!given.ok()) return given.status();
      target = *std::move(given);
    }
    auto out = ReshapedDims(in[0].shape, target, allow_zero_);
    if (!out.ok()) return out.status();
    return CopyAs(in[0], *std::move(out));
  }

 private:
  const std::optional<std::vector<int64_t>> target_;
  const bool allow_zero_;
};

}  // namespace

void RegisterShapeKernels(std::map<std::string, KernelBuilder>& r) {
  r["Flatten"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<FlattenKernel>(n.GetInt("axis", 1)), {n.Input(0)}};
  };
  r["Reshape"] = [](const ir::Node& n, const ir::Graph& g) -> absl::StatusOr<BuiltKernel> {
    const bool allow_zero = n.GetInt("allowzero", 0) != 0;
    const Tensor* shape = g.FindConstant(n.Input(1));
    if (shape == nullptr) {  // a run-time input: plans are specialised on its values
      return BuiltKernel{
          std::make_unique<ReshapeKernel>(std::nullopt, allow_zero), {n.Input(0), n.Input(1)}, {1}};
    }
    if (shape->dtype() != DType::kInt64 || shape->shape().size() != 1) {
      return absl::InvalidArgumentError("shape must be a 1-D int64 tensor");
    }
    const int64_t* p = shape->data_as<int64_t>();
    std::vector<int64_t> target(p, p + shape->num_elements());
    return BuiltKernel{std::make_unique<ReshapeKernel>(std::move(target), allow_zero),
                       {n.Input(0)}};
  };
}

}  // namespace q8::engine::dnnl_backend
