#include "engine/kernels/tensor_quant.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {

absl::StatusOr<TensorQuant> ReadTensorQuant(const ir::Node& node, const ir::Graph& graph,
                                            size_t scale_input) {
  TensorQuant q;
  auto scale = RequireConstant(node, graph, scale_input);
  if (!scale.ok()) return scale.status();
  if ((*scale)->dtype() != DType::kFloat32 || (*scale)->num_elements() != 1) {
    return absl::UnimplementedError(absl::StrCat(
        "input #", scale_input, " ('", node.Input(scale_input),
        "') must be one float32 scale (per-tensor), got ", DTypeName((*scale)->dtype()), " ",
        ShapeToString((*scale)->shape())));
  }
  q.scale = (*scale)->data_as<float>()[0];
  if (!(q.scale > 0.f)) {
    return absl::InvalidArgumentError(absl::StrCat("input #", scale_input, " ('",
                                                   node.Input(scale_input), "') is ", q.scale,
                                                   "; scales must be positive"));
  }
  const size_t zp_input = scale_input + 1;
  if (node.Input(zp_input).empty()) return q;
  auto zp = RequireConstant(node, graph, zp_input);
  if (!zp.ok()) return zp.status();
  q.dtype = (*zp)->dtype();
  if ((*zp)->num_elements() != 1 || (q.dtype != DType::kUint8 && q.dtype != DType::kInt8)) {
    return absl::UnimplementedError(absl::StrCat(
        "input #", zp_input, " ('", node.Input(zp_input),
        "') must be one uint8 or int8 zero point (per-tensor), got ", DTypeName(q.dtype), " ",
        ShapeToString((*zp)->shape())));
  }
  q.zero_point = IntValues(**zp)[0];
  return q;
}

}  // namespace q8::engine::dnnl_backend
