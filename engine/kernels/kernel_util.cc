#include "engine/kernels/kernel_util.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace q8::engine::dnnl_backend {

absl::StatusOr<MatMulDims> InferMatMulDims(const Shape& a, const Shape& b) {
  if (a.size() < 2 || b.size() < 2) {
    return absl::UnimplementedError(absl::StrCat("matrix product of shapes ", ShapeToString(a),
                                                 " and ", ShapeToString(b),
                                                 ": both operands must have rank >= 2"));
  }
  MatMulDims d;
  d.M = a[a.size() - 2];
  d.K = a[a.size() - 1];
  d.N = b[b.size() - 1];
  if (b[b.size() - 2] != d.K) {
    return absl::InvalidArgumentError(absl::StrCat("matrix product of shapes ", ShapeToString(a),
                                                   " and ", ShapeToString(b),
                                                   ": inner dimensions differ"));
  }
  if (b.size() > 2) {
    if (b.size() != a.size() || !std::equal(a.begin(), a.end() - 2, b.begin())) {
      return absl::UnimplementedError(absl::StrCat(
          "matrix product of shapes ", ShapeToString(a), " and ", ShapeToString(b),
          ": batched B must have the same batch dims as A"));
    }
    d.b_batched = true;
  }
  for (size_t i = 0; i + 2 < a.size(); ++i) d.batch *= a[i];
  d.out = Shape(a.begin(), a.end() - 1);
  d.out.push_back(d.N);
  return d;
}

absl::StatusOr<Shape> BroadcastShape(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", ShapeToString(a), " and ",
                                                     ShapeToString(b), " do not broadcast"));
    }
    out[i] = std::max(da, db);
  }
  return out;
}

absl::StatusOr<Reduction> PlanReduction(const Shape& shape, absl::Span<const int64_t> axes,
                                        bool keepdims, bool all_when_empty) {
  Reduction r;
  r.reduced.assign(shape.size(), axes.empty() && all_when_empty);
  for (int64_t a : axes) {
    auto axis = NormalizeAxis(a, shape.size());
    if (!axis.ok()) return axis.status();
    r.reduced[*axis] = true;
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    r.kept.push_back(r.reduced[d] ? 1 : shape[d]);
    if (r.reduced[d]) r.count *= shape[d];
    if (!r.reduced[d] || keepdims) r.out.push_back(r.kept.back());
  }
  return r;
}

absl::StatusOr<int> NormalizeAxis(int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

absl::StatusOr<const Tensor*> RequireConstant(const ir::Node& node, const ir::Graph& graph,
                                              size_t input) {
  const std::string& name = node.Input(input);
  const Tensor* t = name.empty() ? nullptr : graph.FindConstant(name);
  if (t == nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        "input #", input, " ('", name, "') must be a constant (initializer) for this op"));
  }
  return t;
}

absl::StatusOr<std::vector<int64_t>> PlanTimeInts(const ValueDesc& v, const std::string& what) {
  if (v.dtype != DType::kInt64 || v.shape.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", what, "' must be a 0-/1-D int64 tensor, got ", DTypeName(v.dtype), " ",
                     ShapeToString(v.shape)));
  }
  if (v.value == nullptr) {
    // The compiler makes every other source of an argument known (constants, Shape
    // outputs) or rejects the model at load; what is left is a graph input too large.
    return absl::InvalidArgumentError(absl::StrCat("'", what, "' has ", NumElements(v.shape),
                                                   " elements; an argument fed as a graph input "
                                                   "may have at most ",
                                                   kMaxSpecialisedElements,
                                                   " (plans are specialised on its values)"));
  }
  const int64_t* p = v.value->data_as<int64_t>();
  return std::vector<int64_t>(p, p + v.value->num_elements());
}

std::vector<float> FloatValues(const Tensor& t) {
  const float* p = t.data_as<float>();
  return std::vector<float>(p, p + t.num_elements());
}

std::vector<int32_t> IntValues(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::kUint8: v[i] = t.data_as<uint8_t>()[i]; break;
      case DType::kInt8: v[i] = t.data_as<int8_t>()[i]; break;
      case DType::kInt32: v[i] = t.data_as<int32_t>()[i]; break;
      default: v[i] = 0; break;
    }
  }
  return v;
}

}  // namespace q8::engine::dnnl_backend
