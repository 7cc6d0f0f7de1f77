// Convolution on oneDNN.
//
// q8.QConv (folded from QDQ Conv, and QLinearConv with a constant int8 weight): the int8
// convolution with bias, activation and requantization fused in one primitive:
//
//   acc[n,oc,p] = Σ_{ic,k} (x_q[n,ic,p+k] - z_x) · w_q[oc,ic,k]            (int32, oneDNN)
//   y[n,oc,p]   = act(s_x·s_w[oc] · (acc + b[oc] / (s_x·s_w[oc])))         (model value)
//   y_q         = saturate(round_half_even(y / s_y) + z_y)                  (quantized out)
//
// In oneDNN 2.x terms: output scale os[oc] = s_x·s_w[oc] / s_y (s_x·s_w[oc] for a float
// output), f32 bias in the accumulator domain (an int32 bias — QLinearConv's, or a QDQ
// bias whose scale is s_x·s_w, see passes::FoldBias — already is, and stays exact), then
// post-ops on the scaled value: ReLU is relu(y)/s_y = relu(y/s_y), Clip(lo, hi) is
// clip(y/s_y, lo/s_y, hi/s_y) (s_y > 0); then the dst zero point as the post-ops round and
// linear(1, z_y) (AppendDstZeroPoint), so that y_q = round(os·acc) + z_y exactly as written
// above and as TFLite's XNNPACK kernels compute it, and brgemm kernels stay eligible.
// Activations are channels-last (nhwc), which oneDNN's VNNI int8 kernels read; a plain input is
// reordered into the step's workspace first. Weights are packed once, at load, in the layout oneDNN
// picks (format_tag::any; goihw for grouped / depthwise weights).
//
// The source zero point: with no padding, Σ (x_q - z_x)·w = Σ x_q·w - z_x·Σ w, so the
// second term is folded into the bias at load, comp[oc] = -z_x · Σ_{ic,k} w_q[oc,ic,k],
// and oneDNN runs its plain u8s8 kernel without a zero-point attribute. With padding the
// border windows see fewer real inputs than Σ w assumes (padding is real 0, i.e. z_x in the
// quantized domain), so there the src zero-point attribute stays.
//
// Conv (float): oneDNN f32 convolution, weights and bias read at run time (plain layout).
#include <algorithm>
#include <cfloat>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/kernels/channels_last_input.h"
#include "engine/kernels/impl_selection.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"
#include "engine/kernels/tensor_quant.h"
#include "engine/kernels/window_geometry.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// oneDNN weight dims for ONNX weights [OC, IC/G, k...]: [OC, IC/G, k...] or, grouped,
// [G, OC/G, IC/G, k...] (the same bytes: goihw).
memory::dims WeightDims(const Shape& w, int64_t groups) {
  memory::dims d(w.begin(), w.end());
  if (groups > 1) {
    d[0] /= groups;
    d.insert(d.begin(), groups);
  }
  return d;
}

// The ONNX weight bytes as oneDNN (g)oi(d)(h)w weights.
memory::desc PlainWeightsDesc(const Shape& w, int64_t groups, DType dtype) {
  const memory::dims d = WeightDims(w, groups);
  return MemoryDesc(ValueDesc{dtype, Shape(d.begin(), d.end())});
}

// Where a convolution's weights and bias come from at run time.
struct ConvOperands {
  std::shared_ptr<const memory> weights;  // packed constant, or null: runtime input 1
  std::shared_ptr<const memory> bias;     // constant, or null (runtime input 2 if has_bias_input)
  bool has_bias_input = false;
  memory::desc weights_md, bias_md;  // runtime weights / bias as oneDNN reads them
};

// One planned convolution: the source made channels-last if the kernel wants it, then the
// convolution primitive.
class ConvStep final : public Step {
 public:
  ConvStep(dnnl::convolution_forward::primitive_desc pd, ConvOperands ops, ChannelsLastInput src)
      : conv_(pd), src_md_(pd.src_desc()), dst_md_(pd.dst_desc()),
        scratchpad_md_(pd.scratchpad_desc()), ops_(std::move(ops)), src_(std::move(src)) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src_md_, eng, const_cast<void*>(src_.Prepare(c, c.inputs[0])))},
        {DNNL_ARG_DST, memory(dst_md_, eng, c.outputs[0])},
        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_md_, eng, c.scratchpad)}};
    if (ops_.weights) {
      args.emplace(DNNL_ARG_WEIGHTS, *ops_.weights);
    } else {
      args.emplace(DNNL_ARG_WEIGHTS, memory(ops_.weights_md, eng, const_cast<void*>(c.inputs[1])));
    }
    if (ops_.bias) {
      args.emplace(DNNL_ARG_BIAS, *ops_.bias);
    } else if (ops_.has_bias_input) {
      args.emplace(DNNL_ARG_BIAS, memory(ops_.bias_md, eng, const_cast<void*>(c.inputs[2])));
    }
    conv_.execute(c.stream, args);
  }
  size_t scratchpad_bytes() const override {
    return std::max(scratchpad_md_.get_size(), src_.scratchpad_bytes());
  }
  size_t workspace_bytes() const override { return src_.workspace_bytes(); }

  const dnnl::primitive* main_primitive() const override { return &conv_; }
 private:
  const dnnl::convolution_forward conv_;
  const memory::desc src_md_, dst_md_, scratchpad_md_;
  const ConvOperands ops_;
  const ChannelsLastInput src_;
};

// The geometry of one convolution over a concrete input [N, C, spatial...].
struct ConvShape {
  WindowPlan window;
  Shape out;  // [N, OC, out spatial...]
};

absl::StatusOr<ConvShape> PlanConvShape(const WindowAttrs& attrs, const Shape& x, int64_t in_channels,
                                        int64_t out_channels) {
  if (x.size() != attrs.rank() + 2 || x[1] != in_channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input shape ", ShapeToString(x), " does not fit the weights: expected rank ",
        attrs.rank() + 2, " with ", in_channels, " channels"));
  }
  auto window = PlanWindow(attrs, absl::MakeConstSpan(x).subspan(2));
  if (!window.ok()) return window.status();
  ConvShape s{*std::move(window), {x[0], out_channels}};
  s.out.insert(s.out.end(), s.window.out.begin(), s.window.out.end());
  return s;
}

dnnl::convolution_forward::desc ConvDesc(const memory::desc& src, const memory::desc& weights,
                                         const memory::desc* bias, const memory::desc& dst,
                                         const WindowPlan& w) {
  using dnnl::convolution_forward;
  const auto prop = dnnl::prop_kind::forward_inference;
  const auto alg = dnnl::algorithm::convolution_direct;
  return bias ? convolution_forward::desc(prop, alg, src, weights, *bias, dst, w.strides,
                                          w.dilation, w.pad_l, w.pad_r)
              : convolution_forward::desc(prop, alg, src, weights, dst, w.strides, w.dilation,
                                          w.pad_l, w.pad_r);
}

// ---------------------------------------------------------------------------------------
// q8.QConv

enum class Activation { kNone, kRelu, kClip };

struct QConvParams {
  WindowAttrs window;
  int64_t groups = 1, in_channels = 0, out_channels = 0;
  Shape weight_shape;  // ONNX [OC, IC/G, k...]
  DType x_dtype = DType::kUint8;
  int32_t x_zero_point = 0;
  DType y_dtype = DType::kFloat32;  // uint8/int8 when requantized
  int32_t y_zero_point = 0;
  std::vector<float> output_scales;  // 1 or OC
  Activation activation = Activation::kNone;
  float clip_lo = -FLT_MAX, clip_hi = FLT_MAX;  // in the output's scaled domain
};

class QConvKernel final : public Kernel {
 public:
  // `bias_acc` is the bias in the accumulator domain (OC values, or empty).
  static std::unique_ptr<QConvKernel> Create(QConvParams p, const Tensor& weights,
                                             std::vector<float> bias_acc) {
    auto k = std::unique_ptr<QConvKernel>(new QConvKernel(std::move(p), weights.Clone()));
    const int64_t oc = k->p_.out_channels;
    const int64_t per_oc = weights.num_elements() / oc;
    // Accumulator-domain bias with and without the folded source zero point.
    std::vector<float> bias = bias_acc.empty() ? std::vector<float>(oc, 0.f) : bias_acc;
    std::vector<float> folded = bias;
    for (int64_t o = 0; o < oc; ++o) {
      int64_t sum = 0;
      for (int64_t i = 0; i < per_oc; ++i) sum += weights.data_as<int8_t>()[o * per_oc + i];
      folded[o] -= static_cast<float>(k->p_.x_zero_point) * static_cast<float>(sum);
    }
    k->bias_ = MakeBias(bias);
    k->bias_folded_zp_ = MakeBias(folded);
    // Pack for a representative input now so a load does the work; a plan whose shape
    // makes oneDNN want another layout packs once more (kept, shared by later plans).
    Shape x{1, k->p_.in_channels};
    for (size_t i = 0; i < k->p_.window.rank(); ++i) {
      x.push_back(std::max<int64_t>(28, (k->p_.window.kernel[i] - 1) * k->p_.window.dilations[i] + 1));
    }
    if (auto shape = PlanConvShape(k->p_.window, x, k->p_.in_channels, oc); shape.ok()) {
      k->PackedWeights(k->MakePrimitiveDesc(x, *shape, k->FoldsZeroPoint(*shape)).weights_desc());
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
    auto shape = PlanConvShape(p_.window, x.shape, p_.in_channels, p_.out_channels);
    if (!shape.ok()) return shape.status();
    const bool fold_zp = FoldsZeroPoint(*shape);
    auto pd = MakePrimitiveDesc(x.shape, *shape, fold_zp, options);
    ConvOperands ops;
    ops.weights = PackedWeights(pd.weights_desc());
    ops.bias = fold_zp ? bias_folded_zp_ : bias_;
    PlannedStep planned;
    planned.step = std::make_unique<ConvStep>(pd, std::move(ops), ChannelsLastInput(x, pd.src_desc()));
    planned.outputs = {ValueDesc{p_.y_dtype, shape->out, Layout::kChannelsLast}};
    return planned;
  }

  bool is_int8() const override { return true; }
  bool accepts_channels_last() const override { return true; }

 private:
  QConvKernel(QConvParams p, Tensor weights) : p_(std::move(p)), plain_weights_(std::move(weights)) {}

  // True when the source zero point goes into the bias (see the top of this file): no
  // padding, or a zero point of 0.
  bool FoldsZeroPoint(const ConvShape& s) const {
    bool unpadded = true;
    for (size_t i = 0; i < p_.window.rank(); ++i) {
      unpadded = unpadded && s.window.pad_l[i] == 0 && s.window.pad_r[i] == 0;
    }
    return unpadded || p_.x_zero_point == 0;
  }

  static std::shared_ptr<const memory> MakeBias(const std::vector<float>& values) {
    auto m = std::make_shared<memory>(
        memory::desc({static_cast<int64_t>(values.size())}, dt::f32, tag::a), CpuEngine());
    std::copy(values.begin(), values.end(), static_cast<float*>(m->get_data_handle()));
    return m;
  }

  // At the implementation `options` select; without options, oneDNN's first choice,
  // untried (only its weight layout is wanted: the load-time packing).
  dnnl::convolution_forward::primitive_desc MakePrimitiveDesc(
      const Shape& x, const ConvShape& s, bool fold_zp,
      const std::optional<PlanOptions>& options = std::nullopt) const {
    const memory::desc src = MemoryDesc(ValueDesc{p_.x_dtype, x, Layout::kChannelsLast});
    const memory::desc dst = MemoryDesc(ValueDesc{p_.y_dtype, s.out, Layout::kChannelsLast});
    const memory::desc weights(WeightDims(p_.weight_shape, p_.groups), dt::s8, tag::any);
    const memory::desc bias({p_.out_channels}, dt::f32, tag::a);
    dnnl::primitive_attr attr = UserScratchpadAttr();
    attr.set_output_scales(p_.output_scales.size() > 1 ? 1 << 1 : 0, p_.output_scales);
    if (!fold_zp) attr.set_zero_points(DNNL_ARG_SRC, 0, {p_.x_zero_point});
    dnnl::post_ops ops;
    if (p_.activation == Activation::kRelu) {
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    } else if (p_.activation == Activation::kClip) {
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, p_.clip_lo, p_.clip_hi);
    }
    AppendDstZeroPoint(p_.y_dtype, p_.y_zero_point, ops);
    attr.set_post_ops(ops);
    const auto desc = ConvDesc(src, weights, &bias, dst, s.window);
    if (!options) return dnnl::convolution_forward::primitive_desc(desc, attr, CpuEngine());
    return SelectImplementation<dnnl::convolution_forward::primitive_desc>(desc, attr, *options);
  }

  // The weights reordered into `md`: packed on first request, shared afterwards.
  std::shared_ptr<const memory> PackedWeights(const memory::desc& md) const {
    absl::MutexLock lock(&mu_);
    for (const auto& packed : packed_) {
      if (packed->get_desc() == md) return packed;
    }
    const auto& eng = CpuEngine();
    memory plain(PlainWeightsDesc(p_.weight_shape, p_.groups, DType::kInt8), eng,
                 const_cast<void*>(plain_weights_.data()));
    auto packed = std::make_shared<memory>(md, eng);
    dnnl::stream s(eng);
    dnnl::reorder(plain, *packed).execute(s, plain, *packed);
    s.wait();
    packed_.push_back(packed);
    return packed;
  }

  const QConvParams p_;
  const Tensor plain_weights_;  // ONNX layout, for packing
  std::shared_ptr<const memory> bias_, bias_folded_zp_;  // set in Create, then constant
  mutable absl::Mutex mu_;
  // Packings of the weights, one per layout oneDNN asked for (usually one).
  mutable std::vector<std::shared_ptr<const memory>> packed_ ABSL_GUARDED_BY(mu_);
};

// Inputs (QLinearConv's order): x_q, x_scale, x_zp, w_q, w_scale, w_zp, [y_scale, y_zp],
// [bias: int32 accumulator-domain, or float]; attributes of Conv plus `activation`
// ("Relu" | "Clip" with clip_min / clip_max, model-domain values) set by the QDQ fold.
absl::StatusOr<BuiltKernel> BuildQConv(const ir::Node& node, const ir::Graph& graph) {
  auto w = RequireConstant(node, graph, 3);
  if (!w.ok()) return w.status();
  const Tensor& wq = **w;
  if (wq.dtype() != DType::kInt8 || wq.shape().size() != 4) {
    return absl::UnimplementedError(absl::StrCat("weights must be a 4-D int8 constant, got ",
                                                 DTypeName(wq.dtype()), " ",
                                                 ShapeToString(wq.shape())));
  }
  QConvParams p;
  p.weight_shape = wq.shape();
  p.groups = node.GetInt("group", 1);
  p.out_channels = wq.shape()[0];
  if (p.groups < 1 || p.out_channels % p.groups != 0) {
    return absl::InvalidArgumentError(absl::StrCat("group ", p.groups, " does not divide the ",
                                                   p.out_channels, " output channels"));
  }
  p.in_channels = wq.shape()[1] * p.groups;
  auto window = WindowAttrs::FromNode(node, Shape(wq.shape().begin() + 2, wq.shape().end()));
  if (!window.ok()) return window.status();
  p.window = *std::move(window);
  if (p.window.kernel != Shape(wq.shape().begin() + 2, wq.shape().end())) {
    return absl::InvalidArgumentError("kernel_shape differs from the weights' spatial dims");
  }

  auto x = ReadTensorQuant(node, graph, 1);
  if (!x.ok()) return x.status();
  p.x_dtype = x->dtype;
  p.x_zero_point = x->zero_point;
  auto sw_or = ReadScales(node, graph, 4);
  if (!sw_or.ok()) return sw_or.status();
  const std::vector<float> sw = *std::move(sw_or);
  if (sw.size() != 1 && static_cast<int64_t>(sw.size()) != p.out_channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "w_scale has ", sw.size(), " values; expected 1 (per-tensor) or ", p.out_channels,
        " (one per output channel)"));
  }
  if (!node.Input(5).empty()) {
    DType zw_dtype = DType::kUnknown;
    auto zw = ReadZeroPoints(node, graph, 5, zw_dtype);
    if (!zw.ok()) return zw.status();
    if (zw_dtype != DType::kInt8) {
      return absl::InvalidArgumentError(absl::StrCat("w_zero_point is ", DTypeName(zw_dtype),
                                                     "; int8 weights have int8 zero points"));
    }
    for (int32_t z : *zw) {
      if (z != 0) return absl::UnimplementedError("int8 weights need zero points of 0");
    }
  }
  float sy = 1.f;
  if (!node.Input(6).empty()) {
    auto y = ReadTensorQuant(node, graph, 6);
    if (!y.ok()) return y.status();
    sy = y->scale;
    p.y_dtype = y->dtype;
    p.y_zero_point = y->zero_point;
  }
  // os[oc] = s_x·s_w[oc] / s_y; the activation acts on y / s_y.
  std::vector<float> acc_scale;
  for (float s : sw) acc_scale.push_back(x->scale * s);
  for (float s : acc_scale) p.output_scales.push_back(s / sy);
  const std::string act = node.GetString("activation", "");
  if (act == "Relu") {
    p.activation = Activation::kRelu;
  } else if (act == "Clip") {
    p.activation = Activation::kClip;
    p.clip_lo = node.GetFloat("clip_min", -FLT_MAX) / sy;
    p.clip_hi = node.GetFloat("clip_max", FLT_MAX) / sy;
  } else if (!act.empty()) {
    return absl::UnimplementedError(absl::StrCat("activation '", act, "' (Relu, Clip)"));
  }

  std::vector<float> bias_acc;
  if (!node.Input(8).empty()) {
    auto b = RequireConstant(node, graph, 8);
    if (!b.ok()) return b.status();
    if ((*b)->num_elements() != p.out_channels ||
        ((*b)->dtype() != DType::kInt32 && (*b)->dtype() != DType::kFloat32)) {
      return absl::InvalidArgumentError(absl::StrCat("bias must be int32 or float32 with ",
                                                     p.out_channels, " values, got ",
                                                     DTypeName((*b)->dtype()), " ",
                                                     ShapeToString((*b)->shape())));
    }
    if ((*b)->dtype() == DType::kInt32) {  // QLinearConv: already b / (s_x·s_w[oc])
      for (int32_t v : IntValues(**b)) bias_acc.push_back(static_cast<float>(v));
    } else {
      bias_acc = FloatValues(**b);
      for (int64_t o = 0; o < p.out_channels; ++o) {
        bias_acc[o] /= acc_scale[acc_scale.size() == 1 ? 0 : o];
      }
    }
  }
  return BuiltKernel{QConvKernel::Create(std::move(p), wq, std::move(bias_acc)), {node.Input(0)}};
}

// ---------------------------------------------------------------------------------------
// Conv (float)

class FloatConvKernel final : public Kernel {
 public:
  FloatConvKernel(WindowAttrs window, int64_t groups, bool has_bias)
      : window_(std::move(window)), groups_(groups), has_bias_(has_bias) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    for (const ValueDesc& v : in) {
      if (v.dtype != DType::kFloat32) return absl::UnimplementedError("Conv takes float32");
    }
    const Shape& w = in[1].shape;
    auto window = window_.Resolve(Shape(w.begin() + std::min<size_t>(2, w.size()), w.end()));
    if (!window.ok()) return window.status();
    if (w.size() != window->rank() + 2 || w[0] % groups_ != 0) {
      return absl::InvalidArgumentError(absl::StrCat("weights ", ShapeToString(w),
                                                     " do not fit group ", groups_));
    }
    auto shape = PlanConvShape(*window, in[0].shape, w[1] * groups_, w[0]);
    if (!shape.ok()) return shape.status();
    const memory::desc src = MemoryDesc(in[0]);
    const memory::desc dst = MemoryDesc(ValueDesc{DType::kFloat32, shape->out, in[0].layout});
    ConvOperands ops;
    ops.weights_md = PlainWeightsDesc(w, groups_, DType::kFloat32);
    ops.has_bias_input = has_bias_;
    ops.bias_md = memory::desc({w[0]}, dt::f32, tag::a);
    dnnl::primitive_attr attr = UserScratchpadAttr();
    dnnl::convolution_forward::primitive_desc pd(
        ConvDesc(src, ops.weights_md, has_bias_ ? &ops.bias_md : nullptr, dst, shape->window),
        attr, CpuEngine());
    PlannedStep planned;
    planned.step = std::make_unique<ConvStep>(pd, std::move(ops), ChannelsLastInput(in[0], pd.src_desc()));
    planned.outputs = {ValueDesc{DType::kFloat32, shape->out, in[0].layout}};
    return planned;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const WindowAttrs window_;
  const int64_t groups_;
  const bool has_bias_;
};

absl::StatusOr<BuiltKernel> BuildFloatConv(const ir::Node& node, const ir::Graph& graph) {
  Shape kernel;
  if (const Tensor* w = graph.FindConstant(node.Input(1)); w && w->shape().size() > 2) {
    kernel.assign(w->shape().begin() + 2, w->shape().end());
  }
  auto window = WindowAttrs::FromNode(node, kernel);
  if (!window.ok()) return window.status();
  const int64_t groups = node.GetInt("group", 1);
  if (groups < 1) return absl::InvalidArgumentError(absl::StrCat("group ", groups));
  const bool has_bias = !node.Input(2).empty();
  std::vector<std::string> inputs{node.Input(0), node.Input(1)};
  if (has_bias) inputs.push_back(node.Input(2));
  return BuiltKernel{std::make_unique<FloatConvKernel>(*std::move(window), groups, has_bias),
                     std::move(inputs)};
}

// QLinearConv: q8.QConv when the weights are a constant int8 tensor with zero zero-points
// and the parameters are constants; otherwise the scalar reference (conv_integer_kernel.cc).
absl::StatusOr<BuiltKernel> BuildQLinearConv(const ir::Node& node, const ir::Graph& graph) {
  const Tensor* w = graph.FindConstant(node.Input(3));
  bool fast = w && w->dtype() == DType::kInt8 && w->shape().size() == 4;
  for (size_t i : {1, 2, 4, 5, 6, 7, 8}) {
    fast = fast && (node.Input(i).empty() || graph.FindConstant(node.Input(i)));
  }
  if (fast && !node.Input(5).empty()) {
    for (int32_t z : IntValues(*graph.FindConstant(node.Input(5)))) fast = fast && z == 0;
  }
  return fast ? BuildQConv(node, graph)
              : KernelRegistry().at("q8.QLinearConvReference")(node, graph);
}

}  // namespace

void RegisterConvKernels(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.QConv"] = BuildQConv;
  registry["QLinearConv"] = BuildQLinearConv;
  registry["Conv"] = BuildFloatConv;
}

}  // namespace q8::engine::dnnl_backend
