// q8.QGemm (and QLinearMatMul with constant int8 weights): the int8 matrix product on a
// oneDNN u8/s8 × s8 matmul primitive, with bias, ReLU and requantization fused:
//
//   acc[m][n] = Σ_k (x_q[m][k] - z_x) · w_q[k][n]                    (int32, oneDNN)
//   y[m][n]   = act(s_x·s_w[n] · (acc[m][n] + b[n] / (s_x·s_w[n])))  (float model value)
//   y_q       = saturate(round_half_even(y / s_y) + z_y)              (quantized output)
//
// In oneDNN 2.x attributes: output scale os[n] = s_x·s_w[n] / s_y (or s_x·s_w[n] for a float
// output), bias in the accumulator domain b[n] / (s_x·s_w[n]) (oneDNN adds int8 bias before
// the output scale), ReLU as an eltwise post-op (relu(v)/s_y = relu(v/s_y) since s_y > 0),
// src and dst zero points as zero-point attributes, with a rounding post-op before the dst
// zero point (AppendRoundBeforeZeroPoint: y_q = round(v) + z_y, not oneDNN's round(v + z_y));
// an int32 bias (passes::FoldBias) is the accumulator-domain bias itself. Weights are reordered
// once, at load, into the layout oneDNN picks (format_tag::any); a plan whose implementation
// (chosen per shape, kernels/impl_selection.h) reads another layout packs once more, shared
// afterwards.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/kernels/impl_selection.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"
#include "engine/kernels/tensor_quant.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct QGemmParams {
  int64_t K = 0, N = 0;
  DType x_dtype = DType::kUint8;
  int32_t x_zero_point = 0;
  bool quantized_output = false;
  DType y_dtype = DType::kFloat32;
  int32_t y_zero_point = 0;
  bool relu = false;
  // GELU: not positively homogeneous, so the output scale stops at the float value
  // (s_x·s_w[n]) and requantization is a post-op, gelu_erf then linear(1/s_y).
  bool gelu = false;
  float y_scale = 1.f;
  std::vector<float> output_scales;  // 1 or N
  bool has_bias = false;
};

class QGemmStep final : public Step {
 public:
  QGemmStep(dnnl::matmul::primitive_desc pd, std::shared_ptr<const memory> weights,
            std::shared_ptr<const memory> bias)
      : primitive_(pd), src_md_(pd.src_desc()), dst_md_(pd.dst_desc()),
        scratchpad_md_(pd.scratchpad_desc()), weights_(std::move(weights)), bias_(std::move(bias)) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    memory src(src_md_, eng, const_cast<void*>(c.inputs[0]));
    memory dst(dst_md_, eng, c.outputs[0]);
    memory scratch(scratchpad_md_, eng, c.scratchpad);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_WEIGHTS, *weights_},
                                         {DNNL_ARG_DST, dst},
                                         {DNNL_ARG_SCRATCHPAD, scratch}};
    if (bias_) args.emplace(DNNL_ARG_BIAS, *bias_);
    primitive_.execute(c.stream, args);
  }
  size_t scratchpad_bytes() const override { return scratchpad_md_.get_size(); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::matmul primitive_;
  const memory::desc src_md_, dst_md_, scratchpad_md_;
  const std::shared_ptr<const memory> weights_;
  const std::shared_ptr<const memory> bias_;
};

class QGemmKernel final : public Kernel {
 public:
  // `weights_kn` is the constant s8 weight, viewed as logical [K,N] through `weights_md`
  // (plain layout of the file); it is packed here, once.
  static absl::StatusOr<std::unique_ptr<QGemmKernel>> Create(QGemmParams p, const Tensor& weights,
                                                             memory::desc weights_md,
                                                             std::vector<float> bias_acc) {
    auto k = std::unique_ptr<QGemmKernel>(new QGemmKernel(std::move(p)));
    const auto& eng = CpuEngine();
    // Pack for a representative M; plans for other M reuse this layout when oneDNN
    // accepts it (it depends on K, N and the ISA, not on M, for the matmul kernels here).
    k->plain_weights_ = std::make_shared<Tensor>(weights.Clone());
    k->plain_weights_md_ = weights_md;
    k->load_packing_md_ =
        k->MakePrimitiveDesc(1, memory::desc({k->p_.K, k->p_.N}, dt::s8, tag::any)).weights_desc();
    k->PackedWeights(k->load_packing_md_);
    if (k->p_.has_bias) {
      auto bias = std::make_shared<memory>(memory::desc({1, k->p_.N}, dt::f32, tag::ab), eng);
      std::copy(bias_acc.begin(), bias_acc.end(), static_cast<float*>(bias->get_data_handle()));
      k->bias_ = bias;
    }
    return k;
  }

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    return PlanWithOptions(in, PlanOptions{});
  }

  absl::StatusOr<PlannedStep> PlanWithOptions(absl::Span<const ValueDesc> in,
                                              const PlanOptions& options) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != p_.x_dtype) {
      return absl::InvalidArgumentError(absl::StrCat("input must be ", DTypeName(p_.x_dtype),
                                                     ", got ", DTypeName(x.dtype)));
    }
    if (x.shape.size() < 2 || x.shape.back() != p_.K) {
      return absl::InvalidArgumentError(absl::StrCat("input shape ", ShapeToString(x.shape),
                                                     " does not end in K = ", p_.K));
    }
    const int64_t M = NumElements(x.shape) / p_.K;
    Shape out = x.shape;
    out.back() = p_.N;
    const memory::desc any_layout({p_.K, p_.N}, dt::s8, tag::any);
    dnnl::matmul::primitive_desc pd;
    if (options.tune_kernels) {
      pd = MakePrimitiveDesc(M, any_layout, options);
    } else {
      // The first implementation that reads the load-time packing, if any does, and stays
      // in bounds on its guarded trial run (impl_selection.h), as every plan's kernels do.
      const bool reads_packing = static_cast<bool>(
          MakePrimitiveDesc(M, load_packing_md_, /*allow_empty=*/true));
      pd = MakePrimitiveDesc(M, reads_packing ? load_packing_md_ : any_layout, options);
    }
    PlannedStep planned;
    planned.step = std::make_unique<QGemmStep>(pd, PackedWeights(pd.weights_desc()), bias_);
    planned.outputs = {ValueDesc{p_.quantized_output ? p_.y_dtype : DType::kFloat32, out}};
    return planned;
  }

  bool is_int8() const override { return true; }

 private:
  explicit QGemmKernel(QGemmParams p) : p_(std::move(p)) {}

  // oneDNN's first choice, or nothing when allow_empty and no implementation reads
  // `weights_md`.
  dnnl::matmul::primitive_desc MakePrimitiveDesc(int64_t M, const memory::desc& weights_md,
                                                 bool allow_empty = false) const {
    return dnnl::matmul::primitive_desc(OpDesc(M, weights_md), Attr(), CpuEngine(), allow_empty);
  }
  // At the implementation `options` select.
  dnnl::matmul::primitive_desc MakePrimitiveDesc(int64_t M, const memory::desc& weights_md,
                                                 const PlanOptions& options) const {
    const dnnl::matmul::desc desc = OpDesc(M, weights_md);
    return SelectImplementation<dnnl::matmul::primitive_desc>(desc, Attr(), options);
  }

  dnnl::matmul::desc OpDesc(int64_t M, const memory::desc& weights_md) const {
    memory::desc src({M, p_.K}, ToDnnl(p_.x_dtype), tag::ab);
    memory::desc dst({M, p_.N}, p_.quantized_output ? ToDnnl(p_.y_dtype) : dt::f32, tag::ab);
    return p_.has_bias ? dnnl::matmul::desc(src, weights_md,
                                            memory::desc({1, p_.N}, dt::f32, tag::ab), dst)
                       : dnnl::matmul::desc(src, weights_md, dst);
  }

  dnnl::primitive_attr Attr() const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_output_scales(p_.output_scales.size() > 1 ? 1 << 1 : 0, p_.output_scales);
    if (p_.x_zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {p_.x_zero_point});
    // The dst zero point stays an attribute here (matmul kernels take it); the rounding
    // post-op before it makes its add exact. As post-ops (AppendDstZeroPoint), it gives wrong
    // results after gelu_erf on oneDNN 2.6's brgemm matmul (bert_layer_qdq's FFN).
    if (p_.quantized_output && p_.y_zero_point != 0) {
      attr.set_zero_points(DNNL_ARG_DST, 0, {p_.y_zero_point});
    }
    dnnl::post_ops ops;
    if (p_.gelu) {
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
      if (p_.quantized_output)
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / p_.y_scale, 0.f);
    }
    if (p_.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    if (p_.quantized_output) AppendRoundBeforeZeroPoint(p_.y_dtype, p_.y_zero_point, ops);
    attr.set_post_ops(ops);
    return attr;
  }

  // The weights reordered into `md`: packed on first request, shared afterwards.
  std::shared_ptr<const memory> PackedWeights(const memory::desc& md) const {
    absl::MutexLock lock(&mu_);
    for (const auto& packed : packed_) {
      if (packed->get_desc() == md) return packed;
    }
    const auto& eng = CpuEngine();
    memory user(plain_weights_md_, eng, const_cast<void*>(plain_weights_->data()));
    auto packed = std::make_shared<memory>(md, eng);
    dnnl::stream s(eng);
    dnnl::reorder(user, *packed).execute(s, user, *packed);
    s.wait();
    packed_.push_back(packed);
    return packed;
  }

  const QGemmParams p_;
  std::shared_ptr<const memory> bias_;           // accumulator-domain f32 bias, or null
  std::shared_ptr<const Tensor> plain_weights_;  // the file's layout, for packing
  memory::desc plain_weights_md_;
  memory::desc load_packing_md_;  // the layout packed at load (oneDNN's choice for M = 1)
  mutable absl::Mutex mu_;
  // Packings of the weights, one per layout a plan's implementation reads (usually 1-2).
  mutable std::vector<std::shared_ptr<const memory>> packed_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<BuiltKernel> BuildQGemm(const ir::Node& node, const ir::Graph& graph) {
  // Inputs: x_q, x_scale, x_zp, w_q, w_scale, w_zp, y_scale, y_zp, bias (QLinearMatMul's
  // order plus a bias); everything but x_q is a constant.
  auto x_scale = ReadScales(node, graph, 1);
  if (!x_scale.ok()) return x_scale.status();
  auto w = RequireConstant(node, graph, 3);
  if (!w.ok()) return w.status();
  auto w_scale = ReadScales(node, graph, 4);
  if (!w_scale.ok()) return w_scale.status();
  QGemmParams p;
  if (!node.Input(2).empty()) {
    auto x_zp = ReadZeroPoints(node, graph, 2, p.x_dtype);
    if (!x_zp.ok()) return x_zp.status();
    if (x_zp->size() != 1) {
      return absl::UnimplementedError(absl::StrCat(
          "x_zero_point has ", x_zp->size(), " values; the activation is quantized per-tensor"));
    }
    p.x_zero_point = (*x_zp)[0];
  }
  const bool trans_b = node.GetInt("transB", 0) != 0;
  if ((*w)->dtype() != DType::kInt8 || (*w)->shape().size() != 2) {
    return absl::UnimplementedError("weights must be a 2-D int8 constant");
  }
  const Shape& ws = (*w)->shape();
  p.K = trans_b ? ws[1] : ws[0];
  p.N = trans_b ? ws[0] : ws[1];
  if (!node.Input(5).empty()) {
    DType wz_dtype = DType::kUnknown;
    auto wz = ReadZeroPoints(node, graph, 5, wz_dtype);
    if (!wz.ok()) return wz.status();
    if (wz_dtype != DType::kInt8) {
      return absl::InvalidArgumentError(absl::StrCat("w_zero_point is ", DTypeName(wz_dtype),
                                                     "; int8 weights have int8 zero points"));
    }
    for (int32_t z : *wz) {
      if (z != 0) return absl::UnimplementedError("int8 weights need zero points of 0");
    }
  }
  const std::vector<float>& sx = *x_scale;
  const std::vector<float>& sw = *w_scale;
  if (sx.size() != 1 || (sw.size() != 1 && static_cast<int64_t>(sw.size()) != p.N)) {
    return absl::UnimplementedError(absl::StrCat(
        "scales must be per-tensor (activation) and per-tensor or per-output-channel (weights: ",
        p.N, " values), got ", sx.size(), " and ", sw.size()));
  }
  float sy = 1.f;
  if (!node.Input(6).empty()) {
    auto y = ReadTensorQuant(node, graph, 6);
    if (!y.ok()) return y.status();
    sy = y->scale;
    p.quantized_output = true;
    p.y_dtype = y->dtype;
    p.y_zero_point = y->zero_point;
  }
  p.relu = node.GetString("activation", "") == "Relu";
  p.gelu = node.GetString("activation", "") == "Gelu";
  p.y_scale = sy;
  if (p.gelu) sy = 1.f;  // os = s_x·s_w[n]; 1/s_y is the last post-op
  // os[n] = s_x·s_w[n] / s_y; the bias goes in the accumulator domain, b[n] / (s_x·s_w[n]).
  std::vector<float> acc_scale(static_cast<size_t>(sw.size() == 1 ? 1 : p.N));
  for (size_t n = 0; n < acc_scale.size(); ++n) acc_scale[n] = sx[0] * sw[n];
  for (float s : acc_scale) p.output_scales.push_back(s / sy);
  std::vector<float> bias_acc;
  if (!node.Input(8).empty()) {
    auto bias = RequireConstant(node, graph, 8);
    if (!bias.ok()) return bias.status();
    const DType bt = (*bias)->dtype();
    if ((bt != DType::kFloat32 && bt != DType::kInt32) || (*bias)->num_elements() != p.N) {
      return absl::UnimplementedError(
          absl::StrCat("bias must be float32 or int32 with N = ", p.N, " values"));
    }
    p.has_bias = true;
    if (bt == DType::kInt32) {  // already in the accumulator domain (passes::FoldBias)
      for (int32_t v : IntValues(**bias)) bias_acc.push_back(static_cast<float>(v));
    } else {
      bias_acc = FloatValues(**bias);
      for (int64_t n = 0; n < p.N; ++n) bias_acc[n] /= acc_scale[acc_scale.size() == 1 ? 0 : n];
    }
  }
  memory::desc w_md({p.K, p.N}, dt::s8, trans_b ? tag::ba : tag::ab);
  auto kernel = QGemmKernel::Create(std::move(p), **w, w_md, std::move(bias_acc));
  if (!kernel.ok()) return kernel.status();
  return BuiltKernel{std::move(*kernel), {node.Input(0)}};
}

}  // namespace

void RegisterQGemmKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.QGemm"] = BuildQGemm;
}

}  // namespace q8::engine::dnnl_backend
