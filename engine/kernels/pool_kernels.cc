// Pooling on oneDNN (pooling_v2: strides, pads, dilations), float or int8, plain or
// channels-last (the output keeps the input's layout):
//   MaxPool, AveragePool (count_include_pad), GlobalAveragePool — float32, uint8, int8;
//   q8.QPool (folded DQ → pool → Q) and com.microsoft QLinearGlobalAveragePool — int8 in,
//   int8 out, requantized in the same primitive.
//
// Requantize: the pool of a dequantized tensor is the pool of x_q mapped by the same affine
// map (average is linear; max commutes with increasing maps, s_x > 0), so
//   y_q = saturate(round(s_x/s_y · (pool(x_q) - z_x)) + z_y)
// which oneDNN computes as the pool of x_q in f32 followed by the post-op
// linear(α = s_x/s_y, β = z_y - z_x·s_x/s_y) and the saturating conversion. With equal
// input and output parameters (the usual DQ → MaxPool → Q) the post-op is left out.
// Not supported: MaxPool's Indices output and storage_order.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"
#include "engine/kernels/tensor_quant.h"
#include "engine/kernels/window_geometry.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;

struct PoolParams {
  dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
  bool global = false;  // the window is the whole spatial extent
  WindowAttrs window;   // unless global
  // Requantization (q8.QPool, QLinearGlobalAveragePool): input / output types and the
  // affine post-op; out_dtype == kUnknown keeps the input type and adds no post-op.
  DType in_dtype = DType::kUnknown, out_dtype = DType::kUnknown;
  bool requantize = false;
  float alpha = 1.f, beta = 0.f;
};

class PoolKernel final : public Kernel {
 public:
  explicit PoolKernel(PoolParams p) : p_(std::move(p)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != DType::kFloat32 && x.dtype != DType::kUint8 && x.dtype != DType::kInt8) {
      return absl::UnimplementedError(absl::StrCat("pooling of ", DTypeName(x.dtype),
                                                   " (float32, uint8, int8)"));
    }
    if (p_.in_dtype != DType::kUnknown && x.dtype != p_.in_dtype) {
      return absl::InvalidArgumentError(absl::StrCat("input must be ", DTypeName(p_.in_dtype),
                                                     ", got ", DTypeName(x.dtype)));
    }
    if (x.shape.size() < 3 || x.shape.size() > 5) {
      return absl::UnimplementedError(absl::StrCat("pooling of rank-", x.shape.size(),
                                                   " tensors (1-D to 3-D pooling: rank 3-5)"));
    }
    const absl::Span<const int64_t> spatial = absl::MakeConstSpan(x.shape).subspan(2);
    WindowPlan w;
    if (p_.global) {
      for (int64_t d : spatial) {
        w.out.push_back(1);
        w.strides.push_back(1);
        w.kernel.push_back(d);
        w.dilation.push_back(0);
        w.pad_l.push_back(0);
        w.pad_r.push_back(0);
      }
    } else {
      auto planned = PlanWindow(p_.window, spatial);
      if (!planned.ok()) return planned.status();
      w = *std::move(planned);
    }
    ValueDesc y{p_.out_dtype == DType::kUnknown ? x.dtype : p_.out_dtype, {x.shape[0], x.shape[1]},
                x.layout};
    y.shape.insert(y.shape.end(), w.out.begin(), w.out.end());
    dnnl::primitive_attr attr = UserScratchpadAttr();
    if (p_.requantize) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, p_.alpha, p_.beta);
      attr.set_post_ops(ops);
    }
    dnnl::pooling_v2_forward::primitive_desc pd(
        dnnl::pooling_v2_forward::desc(dnnl::prop_kind::forward_inference, p_.algorithm,
                                       MemoryDesc(x), MemoryDesc(y), w.strides, w.kernel,
                                       w.dilation, w.pad_l, w.pad_r),
        attr, CpuEngine());
    PlannedStep planned;
    planned.step = std::make_unique<PrimitiveStep>(
        dnnl::pooling_v2_forward(pd), std::vector<PrimitiveStep::Arg>{{DNNL_ARG_SRC, pd.src_desc()}},
        std::vector<PrimitiveStep::Arg>{{DNNL_ARG_DST, pd.dst_desc()}}, pd.scratchpad_desc());
    planned.outputs = {y};
    return planned;
  }

  bool is_int8() const override { return p_.in_dtype == DType::kUint8 || p_.in_dtype == DType::kInt8; }
  bool accepts_channels_last() const override { return true; }

 private:
  const PoolParams p_;
};

absl::StatusOr<PoolParams> ReadPoolAttrs(const ir::Node& node, const std::string& op) {
  PoolParams p;
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    p.global = true;
    p.algorithm = op == "GlobalMaxPool" ? dnnl::algorithm::pooling_max
                                        : dnnl::algorithm::pooling_avg_include_padding;
    return p;
  }
  if (op != "MaxPool" && op != "AveragePool") {
    return absl::UnimplementedError(absl::StrCat("pooling op '", op, "'"));
  }
  if (node.GetInt("storage_order", 0) != 0) {
    return absl::UnimplementedError("MaxPool storage_order = 1 (column-major Indices)");
  }
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) {
    return absl::UnimplementedError("MaxPool's Indices output");
  }
  auto window = WindowAttrs::FromNode(node);
  if (!window.ok()) return window.status();
  p.window = *std::move(window);
  if (op == "MaxPool") {
    p.algorithm = dnnl::algorithm::pooling_max;
  } else {
    p.algorithm = node.GetInt("count_include_pad", 0) != 0
                      ? dnnl::algorithm::pooling_avg_include_padding
                      : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  return p;
}

absl::StatusOr<BuiltKernel> BuildFloatPool(const ir::Node& node, const ir::Graph&) {
  auto p = ReadPoolAttrs(node, node.op_type);
  if (!p.ok()) return p.status();
  return BuiltKernel{std::make_unique<PoolKernel>(*std::move(p)), {node.Input(0)}};
}

// Inputs: x_q, x_scale, x_zp, y_scale, y_zp (QLinearGlobalAveragePool's order), all but x_q
// constant and per-tensor. q8.QPool names the pooling op in its `pool` attribute.
absl::StatusOr<BuiltKernel> BuildQPool(const ir::Node& node, const ir::Graph& graph,
                                       const std::string& op) {
  auto p = ReadPoolAttrs(node, op);
  if (!p.ok()) return p.status();
  auto x = ReadTensorQuant(node, graph, 1);
  if (!x.ok()) return x.status();
  auto y = ReadTensorQuant(node, graph, 3);
  if (!y.ok()) return y.status();
  p->in_dtype = x->dtype;
  p->out_dtype = y->dtype;
  // y_q = s_x/s_y · (pool(x_q) - z_x) + z_y
  p->alpha = x->scale / y->scale;
  p->beta = static_cast<float>(y->zero_point) - static_cast<float>(x->zero_point) * p->alpha;
  p->requantize = !(x->scale == y->scale && x->zero_point == y->zero_point && x->dtype == y->dtype);
  return BuiltKernel{std::make_unique<PoolKernel>(*std::move(p)), {node.Input(0)}};
}

}  // namespace

void RegisterPoolKernels(std::map<std::string, KernelBuilder>& r) {
  for (const char* op : {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}) {
    r[op] = BuildFloatPool;
  }
  r["q8.QPool"] = [](const ir::Node& n, const ir::Graph& g) {
    return BuildQPool(n, g, n.GetString("pool", ""));
  };
  r["com.microsoft.QLinearGlobalAveragePool"] = [](const ir::Node& n, const ir::Graph& g)
      -> absl::StatusOr<BuiltKernel> {
    if (n.GetInt("channels_last", 0) != 0) {
      return absl::UnimplementedError("QLinearGlobalAveragePool with channels_last = 1");
    }
    return BuildQPool(n, g, "GlobalAveragePool");
  };
}

}  // namespace q8::engine::dnnl_backend
