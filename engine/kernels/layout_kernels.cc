// Ops that move data without arithmetic: Transpose (a oneDNN reorder from a permuted-
// strides view), Concat and Split (block copies along an axis), Squeeze / Unsqueeze
// (the same bytes under a new shape) and Shape (the input's dims, known at plan time).
// Split sizes and Squeeze / Unsqueeze axes given as a run-time input are read at plan
// time (BuiltKernel::value_inputs): the plan is specialised on them.
// All are dtype-agnostic except Transpose, which maps each dtype to a reorder type.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// Row-major element strides of `shape`.
std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

// ---- Transpose: out[i0..in] = x[i_perm^-1...], i.e. out dim d is input dim perm[d].
class TransposeKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  explicit TransposeKernel(std::vector<int64_t> perm) : perm_(std::move(perm)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& x = in[0].shape;
    std::vector<int64_t> perm = perm_;
    if (perm.empty()) {  // default: reverse the dims
      perm.resize(x.size());
      std::iota(perm.rbegin(), perm.rend(), 0);
    }
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool is_permutation = perm.size() == x.size();
    for (size_t d = 0; is_permutation && d < sorted.size(); ++d) {
      is_permutation = sorted[d] == static_cast<int64_t>(d);
    }
    if (!is_permutation) {
      return absl::InvalidArgumentError(absl::StrCat(
          "perm ", ShapeToString(perm), " is not a permutation of the ", x.size(), " input dims"));
    }
    // Reorder element type: 8-byte values move as pairs of s32 (a trailing dim of 2),
    // bool as u8.
    dt type = dt::undef;
    bool pairs = false;
    switch (in[0].dtype) {
      case DType::kFloat32: type = dt::f32; break;
      case DType::kUint8: case DType::kBool: type = dt::u8; break;
      case DType::kInt8: type = dt::s8; break;
      case DType::kInt32: type = dt::s32; break;
      case DType::kInt64: type = dt::s32; pairs = true; break;
      default:
        return absl::UnimplementedError(absl::StrCat("Transpose of ", DTypeName(in[0].dtype)));
    }
    const std::vector<int64_t> in_strides = Strides(x);
    memory::dims dims, src_strides;
    Shape out(x.size());
    for (size_t d = 0; d < x.size(); ++d) {
      out[d] = x[perm[d]];
      dims.push_back(out[d]);
      src_strides.push_back(in_strides[perm[d]] * (pairs ? 2 : 1));
    }
    PlannedStep p;
    p.outputs = {ValueDesc{in[0].dtype, out}};
    if (x.size() <= 1 || NumElements(x) == 0) {
      const size_t bytes = static_cast<size_t>(NumElements(x)) * DTypeSize(in[0].dtype);
      p.step = std::make_unique<FunctionStep>(
          [bytes](const StepContext& c) { std::memcpy(c.outputs[0], c.inputs[0], bytes); });
      return p;
    }
    if (pairs) {
      dims.push_back(2);
      src_strides.push_back(1);
    }
    memory::dims dst_strides(dims.size(), 1);
    for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d) {
      dst_strides[d] = dst_strides[d + 1] * dims[d + 1];
    }
    const memory::desc src(dims, type, src_strides), dst(dims, type, dst_strides);
    dnnl::reorder::primitive_desc pd(CpuEngine(), src, CpuEngine(), dst, UserScratchpadAttr());
    p.step = std::make_unique<PrimitiveStep>(dnnl::reorder(pd),
                                             std::vector<PrimitiveStep::Arg>{{DNNL_ARG_FROM, src}},
                                             std::vector<PrimitiveStep::Arg>{{DNNL_ARG_TO, dst}},
                                             pd.scratchpad_desc());
    return p;
  }

 private:
  const std::vector<int64_t> perm_;
};

// ---- Concat / Split: with the tensors viewed as [outer, axis·inner] byte rows, each
// part is a run of rows' columns; copying row by row joins or separates them.
struct AxisBlocks {
  int64_t outer = 1;      // product of the dims before the axis
  size_t inner_bytes = 1; // bytes of one index along the axis (dims after it × elem size)
};

AxisBlocks BlocksAround(const Shape& shape, int axis, DType dtype) {
  AxisBlocks b;
  b.inner_bytes = DTypeSize(dtype);
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (d < axis) b.outer *= shape[d];
    if (d > axis) b.inner_bytes *= static_cast<size_t>(shape[d]);
  }
  return b;
}

// Copies part p (sizes[p] indices along the axis) between the whole and its part buffer.
// `join`: part → whole (Concat); else whole → part (Split).
void CopyParts(const AxisBlocks& b, const std::vector<int64_t>& sizes, int64_t total, bool join,
               const StepContext& c) {
  const size_t row = static_cast<size_t>(total) * b.inner_bytes;
  size_t offset = 0;
  for (size_t p = 0; p < sizes.size(); ++p) {
    const size_t chunk = static_cast<size_t>(sizes[p]) * b.inner_bytes;
    for (int64_t o = 0; o < b.outer; ++o) {
      char* whole = static_cast<char*>(join ? c.outputs[0] : const_cast<void*>(c.inputs[0])) +
                    o * row + offset;
      char* part = static_cast<char*>(join ? const_cast<void*>(c.inputs[p]) : c.outputs[p]) + o * chunk;
      if (join) {
        std::memcpy(whole, part, chunk);
      } else {
        std::memcpy(part, whole, chunk);
      }
    }
    offset += chunk;
  }
}

class ConcatKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  explicit ConcatKernel(int64_t axis) : axis_(axis) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& first = in[0];
    auto axis = NormalizeAxis(axis_, first.shape.size());
    if (!axis.ok()) return axis.status();
    Shape out = first.shape;
    out[*axis] = 0;
    std::vector<int64_t> sizes;
    for (size_t i = 0; i < in.size(); ++i) {
      bool fits = in[i].dtype == first.dtype && in[i].shape.size() == first.shape.size();
      for (size_t d = 0; fits && d < out.size(); ++d) {
        fits = static_cast<int>(d) == *axis || in[i].shape[d] == first.shape[d];
      }
      if (!fits) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input #", i, " (", DTypeName(in[i].dtype), " ", ShapeToString(in[i].shape),
            ") does not match input #0 (", DTypeName(first.dtype), " ",
            ShapeToString(first.shape), ") outside axis ", *axis));
      }
      sizes.push_back(in[i].shape[*axis]);
      out[*axis] += in[i].shape[*axis];
    }
    const AxisBlocks b = BlocksAround(out, *axis, first.dtype);
    const int64_t total = out[*axis];
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(
        [b, sizes, total](const StepContext& c) { CopyParts(b, sizes, total, /*join=*/true, c); });
    p.outputs = {ValueDesc{first.dtype, out}};
    return p;
  }

 private:
  const int64_t axis_;
};

class SplitKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  // `sizes` empty: equal parts; nullopt: the sizes are the node's second runtime input,
  // read at plan time.
  SplitKernel(int64_t axis, std::optional<std::vector<int64_t>> sizes, int num_outputs)
      : axis_(axis), sizes_(std::move(sizes)), num_outputs_(num_outputs) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& x = in[0].shape;
    auto axis = NormalizeAxis(axis_, x.size());
    if (!axis.ok()) return axis.status();
    const int64_t total = x[*axis];
    std::vector<int64_t> sizes;
    if (sizes_) {
      sizes = *sizes_;
    } else {
      auto given = PlanTimeInts(in[1], "split");
      if (!given.ok()) return given.status();
      sizes = *std::move(given);
    }
    if (sizes.empty()) {
      if (total % num_outputs_ != 0) {
        return absl::InvalidArgumentError(absl::StrCat("axis ", *axis, " of size ", total,
                                                       " does not split into ", num_outputs_,
                                                       " equal parts"));
      }
      sizes.assign(num_outputs_, total / num_outputs_);
    }
    if (static_cast<int>(sizes.size()) != num_outputs_ ||
        std::any_of(sizes.begin(), sizes.end(), [](int64_t v) { return v < 0; }) ||
        std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != total) {
      return absl::InvalidArgumentError(absl::StrCat(
          "split sizes [", absl::StrJoin(sizes, ","), "] are not ", num_outputs_,
          " sizes >= 0 adding up to axis ", *axis, "'s size ", total, " in ", ShapeToString(x)));
    }
    PlannedStep p;
    for (int64_t s : sizes) {
      Shape part = x;
      part[*axis] = s;
      p.outputs.push_back(ValueDesc{in[0].dtype, part});
    }
    const AxisBlocks b = BlocksAround(x, *axis, in[0].dtype);
    p.step = std::make_unique<FunctionStep>(
        [b, sizes, total](const StepContext& c) { CopyParts(b, sizes, total, /*join=*/false, c); });
    return p;
  }

 private:
  const int64_t axis_;
  const std::optional<std::vector<int64_t>> sizes_;
  const int num_outputs_;
};

// ---- Squeeze / Unsqueeze: the bytes stay, the shape changes.
class SqueezeKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  // `axes` nullopt: the axes are the node's second runtime input, read at plan time.
  SqueezeKernel(std::optional<std::vector<int64_t>> axes, bool unsqueeze)
      : axes_(std::move(axes)), unsqueeze_(unsqueeze) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    std::vector<int64_t> axes;
    if (axes_) {
      axes = *axes_;
    } else {
      auto given = PlanTimeInts(in[1], "axes");
      if (!given.ok()) return given.status();
      axes = *std::move(given);
    }
    auto out = unsqueeze_ ? Unsqueezed(in[0].shape, axes) : Squeezed(in[0].shape, axes);
    if (!out.ok()) {
      return absl::Status(out.status().code(),
                          absl::StrCat("axes [", absl::StrJoin(axes, ","), "] of ",
                                       ShapeToString(in[0].shape), ": ", out.status().message()));
    }
    const size_t bytes = static_cast<size_t>(NumElements(in[0].shape)) * DTypeSize(in[0].dtype);
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(
        [bytes](const StepContext& c) { std::memcpy(c.outputs[0], c.inputs[0], bytes); });
    p.outputs = {ValueDesc{in[0].dtype, *out}};
    return p;
  }

 private:
  static absl::StatusOr<Shape> Squeezed(const Shape& x, const std::vector<int64_t>& axes) {
    std::vector<bool> drop(x.size(), false);
    for (int64_t a : axes) {
      auto axis = NormalizeAxis(a, x.size());
      if (!axis.ok()) return axis.status();
      if (x[*axis] != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot squeeze axis ", a, " of size ", x[*axis]));
      }
      drop[*axis] = true;
    }
    Shape out;
    for (size_t d = 0; d < x.size(); ++d) {
      if (!(axes.empty() ? x[d] == 1 : drop[d])) out.push_back(x[d]);
    }
    return out;
  }

  static absl::StatusOr<Shape> Unsqueezed(const Shape& x, const std::vector<int64_t>& axes) {
    const size_t rank = x.size() + axes.size();
    std::vector<bool> inserted(rank, false);
    for (int64_t a : axes) {
      auto axis = NormalizeAxis(a, rank);
      if (!axis.ok()) return axis.status();
      if (inserted[*axis]) return absl::InvalidArgumentError(absl::StrCat("axis ", a, " repeated"));
      inserted[*axis] = true;
    }
    Shape out;
    auto next = x.begin();
    for (size_t d = 0; d < rank; ++d) out.push_back(inserted[d] ? 1 : *next++);
    return out;
  }

  const std::optional<std::vector<int64_t>> axes_;
  const bool unsqueeze_;
};

// ---- Shape (opset 15 start/end): the dims are known when the plan is made.
class ShapeKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  ShapeKernel(int64_t start, std::optional<int64_t> end) : start_(start), end_(end) {}
  bool plans_output_values() const override { return true; }

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const int64_t rank = static_cast<int64_t>(in[0].shape.size());
    auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
    const int64_t start = clamp(start_), end = std::max(start, clamp(end_.value_or(rank)));
    std::vector<int64_t> dims(in[0].shape.begin() + start, in[0].shape.begin() + end);
    PlannedStep p;
    auto value = std::make_shared<Tensor>(DType::kInt64, Shape{static_cast<int64_t>(dims.size())});
    std::copy(dims.begin(), dims.end(), value->data_as<int64_t>());
    p.outputs = {ValueDesc{DType::kInt64, value->shape(), Layout::kPlain, std::move(value)}};
    p.step = std::make_unique<FunctionStep>([dims](const StepContext& c) {
      std::copy(dims.begin(), dims.end(), static_cast<int64_t*>(c.outputs[0]));
    });
    return p;
  }

 private:
  const int64_t start_;
  const std::optional<int64_t> end_;
};

// Axes / split sizes: the attribute (before opset 13), or the node's second input: an
// int64 constant, read now, or a run-time input, read at plan time (nullopt here).
absl::StatusOr<std::optional<std::vector<int64_t>>> IntsFromInputOrAttr(const ir::Node& n,
                                                                        const ir::Graph& g,
                                                                        size_t input,
                                                                        const char* attr) {
  if (n.Input(input).empty()) return n.GetInts(attr);
  const Tensor* t = g.FindConstant(n.Input(input));
  if (t == nullptr) return std::nullopt;
  if (t->dtype() != DType::kInt64 || t->shape().size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("'", attr, "' must be a 0-/1-D int64 tensor"));
  }
  const int64_t* p = t->data_as<int64_t>();
  return std::vector<int64_t>(p, p + t->num_elements());
}

// The runtime inputs of a node with such an argument: the data, and the argument when
// plans read it (value_inputs).
BuiltKernel WithArgument(std::unique_ptr<Kernel> kernel, const ir::Node& n, bool at_plan_time) {
  if (!at_plan_time) return BuiltKernel{std::move(kernel), {n.Input(0)}};
  return BuiltKernel{std::move(kernel), {n.Input(0), n.Input(1)}, {1}};
}

}  // namespace

void RegisterLayoutKernels(std::map<std::string, KernelBuilder>& r) {
  r["Transpose"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<TransposeKernel>(n.GetInts("perm")), {n.Input(0)}};
  };
  r["Concat"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    if (!n.Has("axis")) return absl::InvalidArgumentError("Concat needs the 'axis' attribute");
    return BuiltKernel{std::make_unique<ConcatKernel>(n.GetInt("axis", 0)), n.inputs};
  };
  r["Split"] = [](const ir::Node& n, const ir::Graph& g) -> absl::StatusOr<BuiltKernel> {
    auto sizes = IntsFromInputOrAttr(n, g, 1, "split");
    if (!sizes.ok()) return sizes.status();
    const bool at_plan_time = !sizes->has_value();
    return WithArgument(std::make_unique<SplitKernel>(n.GetInt("axis", 0), *std::move(sizes),
                                                      static_cast<int>(n.outputs.size())),
                        n, at_plan_time);
  };
  for (const bool unsqueeze : {false, true}) {
    r[unsqueeze ? "Unsqueeze" : "Squeeze"] =
        [unsqueeze](const ir::Node& n, const ir::Graph& g) -> absl::StatusOr<BuiltKernel> {
      auto axes = IntsFromInputOrAttr(n, g, 1, "axes");
      if (!axes.ok()) return axes.status();
      const bool at_plan_time = !axes->has_value();
      return WithArgument(std::make_unique<SqueezeKernel>(*std::move(axes), unsqueeze), n,
                          at_plan_time);
    };
  }
  r["Shape"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    std::optional<int64_t> end;
    if (n.Has("end")) end = n.GetInt("end", 0);
    return BuiltKernel{std::make_unique<ShapeKernel>(n.GetInt("start", 0), end), {n.Input(0)}};
  };
}

}  // namespace q8::engine::dnnl_backend
