// Small helpers shared by kernel files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

// A matrix product's shape after numpy-style rules, restricted to what the kernels
// support: B is 2-D (shared by every batch) or has the same batch dims as A.
struct MatMulDims {
  int64_t batch = 1, M = 0, K = 0, N = 0;
  bool b_batched = false;
  Shape out;
};
absl::StatusOr<MatMulDims> InferMatMulDims(const Shape& a, const Shape& b);

// numpy broadcasting of two shapes; INVALID_ARGUMENT if they do not broadcast.
absl::StatusOr<Shape> BroadcastShape(const Shape& a, const Shape& b);

// A reduction of `shape` over `axes` (negative ones count from the end): which dims it
// averages, the shape with those dims as 1 (kept) and as the op returns it (out, without
// them unless keepdims), and how many elements each output averages. No axes: every dim
// when all_when_empty (ONNX ReduceMean), none otherwise.
struct Reduction {
  std::vector<bool> reduced;
  Shape kept, out;
  int64_t count = 1;
};
absl::StatusOr<Reduction> PlanReduction(const Shape& shape, absl::Span<const int64_t> axes,
                                        bool keepdims, bool all_when_empty);

// Normalises a possibly negative axis against rank; error if out of range.
absl::StatusOr<int> NormalizeAxis(int64_t axis, size_t rank);

// Reads a constant input of the node (error naming it when absent or not constant).
absl::StatusOr<const Tensor*> RequireConstant(const ir::Node& node, const ir::Graph& graph,
                                              size_t input);

// The contents of an argument input that Plan reads (a shape, axes or split sizes; see
// BuiltKernel::value_inputs): a 0-/1-D int64 tensor. `what` names it in errors, which are
// INVALID_ARGUMENT (wrong type or rank, or a graph input too large to specialise on).
absl::StatusOr<std::vector<int64_t>> PlanTimeInts(const ValueDesc& v, const std::string& what);

// Scalar or per-channel float parameters / zero points of a constant, as vectors.
std::vector<float> FloatValues(const Tensor& t);
std::vector<int32_t> IntValues(const Tensor& t);  // uint8/int8/int32 constants

}  // namespace q8::engine::dnnl_backend
