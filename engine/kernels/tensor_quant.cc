#include "engine/kernels/tensor_quant.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

std::string InputText(const ir::Node& node, size_t input) {
  return absl::StrCat("input #", input, " ('", node.Input(input), "')");
}

}  // namespace

absl::StatusOr<std::vector<float>> ReadScales(const ir::Node& node, const ir::Graph& graph,
                                              size_t input) {
  auto t = RequireConstant(node, graph, input);
  if (!t.ok()) return t.status();
  const Tensor& s = **t;
  if (s.dtype() != DType::kFloat32 || s.shape().size() > 1 || s.num_elements() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        InputText(node, input), " is ", DTypeName(s.dtype()), " ", ShapeToString(s.shape()),
        "; scales are float32, a scalar or 1-D with at least one value"));
  }
  std::vector<float> v = FloatValues(s);
  for (size_t i = 0; i < v.size(); ++i) {
    if (!(std::isfinite(v[i]) && v[i] > 0.f)) {
      return absl::InvalidArgumentError(
          absl::StrCat(InputText(node, input), v.size() > 1 ? absl::StrCat(" element ", i) : "",
                       " is ", v[i], "; scales must be finite and positive"));
    }
  }
  return v;
}

absl::StatusOr<std::vector<int32_t>> ReadZeroPoints(const ir::Node& node, const ir::Graph& graph,
                                                    size_t input, DType& dtype) {
  auto t = RequireConstant(node, graph, input);
  if (!t.ok()) return t.status();
  const Tensor& z = **t;
  if ((z.dtype() != DType::kUint8 && z.dtype() != DType::kInt8) || z.shape().size() > 1 ||
      z.num_elements() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        InputText(node, input), " is ", DTypeName(z.dtype()), " ", ShapeToString(z.shape()),
        "; zero points are uint8 or int8, a scalar or 1-D with at least one value"));
  }
  dtype = z.dtype();
  return IntValues(z);
}

absl::StatusOr<TensorQuant> ReadTensorQuant(const ir::Node& node, const ir::Graph& graph,
                                            size_t scale_input) {
  TensorQuant q;
  auto scale = ReadScales(node, graph, scale_input);
  if (!scale.ok()) return scale.status();
  if (scale->size() != 1) {
    return absl::UnimplementedError(absl::StrCat(InputText(node, scale_input), " has ",
                                                 scale->size(),
                                                 " values; this op takes one (per-tensor)"));
  }
  q.scale = (*scale)[0];
  const size_t zp_input = scale_input + 1;
  if (node.Input(zp_input).empty()) return q;
  auto zp = ReadZeroPoints(node, graph, zp_input, q.dtype);
  if (!zp.ok()) return zp.status();
  if (zp->size() != 1) {
    return absl::UnimplementedError(absl::StrCat(InputText(node, zp_input), " has ", zp->size(),
                                                 " values; this op takes one (per-tensor)"));
  }
  q.zero_point = (*zp)[0];
  return q;
}

}  // namespace q8::engine::dnnl_backend
