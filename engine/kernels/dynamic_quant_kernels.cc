// Dynamic quantization: DynamicQuantizeLinear and the matrix product of its output with a
// constant int8 weight (MatMulInteger, rewritten to q8.DynQGemm by
// passes/fold_dynamic_quant_matmul.cc), on a oneDNN u8s8 matmul.
//
// DynamicQuantizeLinear (ONNX spec, uint8, all in float32):
//   lo = min(0, min x),  hi = max(0, max x),  s = (hi - lo) / 255
//   z  = saturate_u8(round_half_even(0 - lo / s))
//   y  = saturate_u8(round_half_even(x / s) + z)
// (s = 0 only for an all-zero x: then y = 0, z = 0.)
//
// q8.DynQGemm, inputs (x_q, x_zp, x_scale) at run time, w_q / w_scale / bias constant:
//   acc[m][n] = Σ_k (x_q[m][k] - z_x) · w_q[k][n]                 (int32, oneDNN)
//   y[m][n]   = act(s_x · s_w[n] · acc[m][n] + b[n])              (float)
// z_x and s_x are run-time values. Handing them to oneDNN as run-time attributes
// (DNNL_RUNTIME_*_VAL zero point and scales) makes 2.6 fall back from its brgemm kernels to
// gemm:jit (measured: ~2× slower on mlp_dynamic). So the primitive keeps only constants
// in its attributes, and the run-time parts become binary post-ops on tiny tensors:
//   primitive:  t[m][n] = s_w[n] · Σ_k x_q[m][k] · w_q[k][n]      (constant output scales)
//   post-op 0:  t · s_x                                              (binary mul, [1,1])
//   post-op 1:  + d[n],  d[n] = b[n] − s_x · z_x · s_w[n] · colsum_w[n]   (binary add, [1,N])
//   post-op 2:  act                                                   (eltwise, optional)
// which is y = s_x · s_w[n] · (Σ x_q·w − z_x · Σ_k w[k][n]) + b[n], the formula above;
// d (N floats) is computed per run into the step's workspace. Without x_scale the node is
// a plain MatMulInteger: y = acc as int32, with the zero point as a run-time attribute.
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/impl_selection.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/tensor_quant.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

class DynamicQuantizeLinearKernel final : public Kernel {
 public:
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (in[0].dtype != DType::kFloat32) {
      return absl::UnimplementedError("DynamicQuantizeLinear takes float32");
    }
    const int64_t n = NumElements(in[0].shape);
    PlannedStep p;
    p.outputs = {ValueDesc{DType::kUint8, in[0].shape}, ValueDesc{DType::kFloat32, {}},
                 ValueDesc{DType::kUint8, {}}};
    p.step = std::make_unique<FunctionStep>([n](const StepContext& c) {
      const float* x = static_cast<const float*>(c.inputs[0]);
      float lo = 0.f, hi = 0.f;
      quant::RangeWithZero(x, n, &lo, &hi);
      const float scale = (hi - lo) / 255.f;
      const float zp =
          scale == 0.f ? 0.f : std::clamp(std::nearbyint(0.f - lo / scale), 0.f, 255.f);
      uint8_t* y = static_cast<uint8_t*>(c.outputs[0]);
      *static_cast<float*>(c.outputs[1]) = scale;
      *static_cast<uint8_t*>(c.outputs[2]) = static_cast<uint8_t>(zp);
      if (scale == 0.f) {
        std::fill(y, y + n, uint8_t{0});
        return;
      }
      // y = saturate_u8(round_half_even(x / s) + z), vectorised (quant_math.h).
      quant::QuantizeSpan(x, n, scale, static_cast<int32_t>(zp), y);
    });
    return p;
  }
};

struct DynQGemmParams {
  int64_t K = 0, N = 0;
  bool has_zero_point = false;         // runtime input x_zp present
  bool scaled = false;                 // x_scale present: float output
  std::vector<float> weight_scales;    // 1 or N (scaled only)
  std::shared_ptr<const Tensor> bias;  // [N] float, or null (scaled only)
  bool relu = false;
};

class DynQGemmStep final : public Step {
 public:
  DynQGemmStep(dnnl::matmul::primitive_desc pd, std::shared_ptr<const memory> weights,
               DynQGemmParams p, std::shared_ptr<const std::vector<int32_t>> column_sums,
               bool signed_input)
      : primitive_(pd),
        src_md_(pd.src_desc()),
        dst_md_(pd.dst_desc()),
        scratchpad_md_(pd.scratchpad_desc()),
        weights_(std::move(weights)),
        p_(std::move(p)),
        column_sums_(std::move(column_sums)),
        signed_input_(signed_input) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src_md_, eng, const_cast<void*>(c.inputs[0]))},
        {DNNL_ARG_WEIGHTS, *weights_},
        {DNNL_ARG_DST, memory(dst_md_, eng, c.outputs[0])},
        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_md_, eng, c.scratchpad)}};
    const int32_t zx = !p_.has_zero_point ? 0
                       : signed_input_    ? *static_cast<const int8_t*>(c.inputs[1])
                                          : *static_cast<const uint8_t*>(c.inputs[1]);
    if (p_.scaled) {
      // Workspace: [d[0..N) | s_x].
      float* d = static_cast<float*>(c.workspace);
      float* sx = d + p_.N;
      *sx = *static_cast<const float*>(c.inputs[2]);
      const bool per_column = p_.weight_scales.size() > 1;
      const float* bias = p_.bias ? p_.bias->data_as<float>() : nullptr;
      for (int64_t n = 0; n < p_.N; ++n) {
        const float sw = p_.weight_scales[per_column ? n : 0];
        d[n] = (bias ? bias[n] : 0.f) -
               *sx * static_cast<float>(zx) * sw * static_cast<float>((*column_sums_)[n]);
      }
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                   memory(memory::desc({1, 1}, dt::f32, tag::ab), eng, sx));
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1,
                   memory(memory::desc({1, p_.N}, dt::f32, tag::ab), eng, d));
    } else if (p_.has_zero_point) {
      int32_t* zp = static_cast<int32_t*>(c.workspace);
      *zp = zx;
      args.emplace(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC,
                   memory(memory::desc({1}, dt::s32, tag::a), eng, zp));
    }
    primitive_.execute(c.stream, args);
  }
  size_t scratchpad_bytes() const override { return scratchpad_md_.get_size(); }
  size_t workspace_bytes() const override { return (p_.N + 1) * sizeof(float); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }

 private:
  const dnnl::matmul primitive_;
  const memory::desc src_md_, dst_md_, scratchpad_md_;
  const std::shared_ptr<const memory> weights_;
  const DynQGemmParams p_;
  const std::shared_ptr<const std::vector<int32_t>> column_sums_;  // Σ_k w[k][n]
  const bool signed_input_;  // x_q (and z_x) int8 rather than uint8
};

class DynQGemmKernel final : public Kernel {
 public:
  DynQGemmKernel(DynQGemmParams p, std::shared_ptr<const Tensor> weights)
      : p_(std::move(p)), weights_(std::move(weights)), column_sums_(ColumnSums(*weights_, p_)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    return PlanWithOptions(in, PlanOptions{});
  }

  absl::StatusOr<PlannedStep> PlanWithOptions(absl::Span<const ValueDesc> in,
                                              const PlanOptions& options) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != DType::kUint8 && x.dtype != DType::kInt8) {
      return absl::InvalidArgumentError(
          absl::StrCat("input must be uint8 or int8, got ", DTypeName(x.dtype)));
    }
    if (x.shape.size() < 2 || x.shape.back() != p_.K) {
      return absl::InvalidArgumentError(
          absl::StrCat("input shape ", ShapeToString(x.shape), " does not end in K = ", p_.K));
    }
    const int64_t M = NumElements(x.shape) / p_.K;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (p_.scaled) {
      attr.set_output_scales(p_.weight_scales.size() > 1 ? 1 << 1 : 0, p_.weight_scales);
      dnnl::post_ops ops;
      ops.append_binary(dnnl::algorithm::binary_mul, memory::desc({1, 1}, dt::f32, tag::ab));
      ops.append_binary(dnnl::algorithm::binary_add, memory::desc({1, p_.N}, dt::f32, tag::ab));
      if (p_.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    } else if (p_.has_zero_point) {
      attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    }
    const memory::desc src({M, p_.K}, ToDnnl(x.dtype), tag::ab);
    const memory::desc dst({M, p_.N}, p_.scaled ? dt::f32 : dt::s32, tag::ab);
    const dnnl::matmul::desc desc(src, memory::desc({p_.K, p_.N}, dt::s8, tag::any), dst);
    const auto pd = SelectImplementation<dnnl::matmul::primitive_desc>(desc, attr, options);
    // Weights are packed per plan (once per input shape) into the layout this M wants.
    const auto& eng = CpuEngine();
    memory plain(memory::desc({p_.K, p_.N}, dt::s8, tag::ab), eng,
                 const_cast<void*>(weights_->data()));
    auto packed = std::make_shared<memory>(pd.weights_desc(), eng);
    dnnl::stream s(eng);
    dnnl::reorder(plain, *packed).execute(s, plain, *packed);
    s.wait();
    Shape out = x.shape;
    out.back() = p_.N;
    PlannedStep planned;
    planned.step =
        std::make_unique<DynQGemmStep>(pd, packed, p_, column_sums_, x.dtype == DType::kInt8);
    planned.outputs = {ValueDesc{p_.scaled ? DType::kFloat32 : DType::kInt32, out}};
    return planned;
  }

  bool is_int8() const override { return true; }

 private:
  static std::shared_ptr<const std::vector<int32_t>> ColumnSums(const Tensor& w,
                                                                const DynQGemmParams& p) {
    auto sums = std::make_shared<std::vector<int32_t>>(p.N, 0);
    const int8_t* data = w.data_as<int8_t>();
    for (int64_t k = 0; k < p.K; ++k) {
      for (int64_t n = 0; n < p.N; ++n) (*sums)[n] += data[k * p.N + n];
    }
    return sums;
  }

  const DynQGemmParams p_;
  const std::shared_ptr<const Tensor> weights_;                    // [K,N] int8, plain
  const std::shared_ptr<const std::vector<int32_t>> column_sums_;  // Σ_k w[k][n], per plan shared
};

// Inputs: x_q, x_zp, x_scale (runtime; zp/scale may be omitted), w_q, w_scale, bias
// (constants; w_scale and bias only with x_scale). Attribute activation = "Relu" or "".
absl::StatusOr<BuiltKernel> BuildDynQGemm(const ir::Node& node, const ir::Graph& graph) {
  auto w = graph.constants.find(node.Input(3));
  if (w == graph.constants.end() || w->second->dtype() != DType::kInt8 ||
      w->second->shape().size() != 2) {
    return absl::UnimplementedError(
        absl::StrCat("weight '", node.Input(3), "' must be a 2-D int8 constant"));
  }
  DynQGemmParams p;
  p.K = w->second->shape()[0];
  p.N = w->second->shape()[1];
  p.has_zero_point = !node.Input(1).empty();
  p.scaled = !node.Input(2).empty();
  p.relu = node.GetString("activation", "") == "Relu";
  std::vector<std::string> runtime{node.Input(0), node.Input(1), node.Input(2)};
  if (p.scaled) {
    auto ws = ReadScales(node, graph, 4);
    if (!ws.ok()) return ws.status();
    p.weight_scales = *std::move(ws);
    if (p.weight_scales.size() != 1 && static_cast<int64_t>(p.weight_scales.size()) != p.N) {
      return absl::InvalidArgumentError(absl::StrCat("weight scale has ", p.weight_scales.size(),
                                                     " values; want 1 or N = ", p.N));
    }
    if (!node.Input(5).empty()) {
      auto b = graph.constants.find(node.Input(5));
      if (b == graph.constants.end() || b->second->dtype() != DType::kFloat32 ||
          b->second->num_elements() != p.N) {
        return absl::InvalidArgumentError(
            absl::StrCat("bias must be a float32 constant of N = ", p.N, " values"));
      }
      p.bias = b->second;
    }
  }
  // The step reads runtime inputs by position: keep x_q, x_zp, x_scale slots filled.
  for (auto& name : runtime) {
    if (name.empty()) name = node.Input(0);
  }
  return BuiltKernel{std::make_unique<DynQGemmKernel>(std::move(p), w->second), runtime};
}

}  // namespace

void RegisterDynamicQuantKernels(std::map<std::string, KernelBuilder>& r) {
  r["DynamicQuantizeLinear"] = [](const ir::Node& n,
                                  const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<DynamicQuantizeLinearKernel>(), {n.Input(0)}};
  };
  r["q8.DynQGemm"] = BuildDynQGemm;
}

}  // namespace q8::engine::dnnl_backend
