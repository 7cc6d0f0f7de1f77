// The float ops of a transformer block that stay float in a QDQ graph, on oneDNN f32
// primitives:
//
//   Softmax (opset 13):  y = exp(x - max_axis x) / Σ_axis exp(x - max_axis x)
//   (before opset 13 the same over all dims from axis on: the input flattened to 2-D)
//   LayerNormalization:  y = (x - μ) / sqrt(σ² + ε) · scale + bias, with μ, σ² over the
//                        dims from `axis` on (the tensor is viewed as [outer, inner]);
//                        optional outputs Mean = μ and InvStdDev = 1 / sqrt(σ² + ε).
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

absl::Status RequireFloat(const ValueDesc& v, const char* what) {
  if (v.dtype == DType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrCat(what, " is ", DTypeName(v.dtype), "; only float32 is supported"));
}

// `coerce_2d` (ONNX opset < 13): the input is viewed as [Π d[0..axis), Π d[axis..)] and
// each row normalised, i.e. over every dim from `axis` on; the bytes are the same, so only
// the memory descriptor changes.
class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(int64_t axis, bool coerce_2d) : axis_(axis), coerce_2d_(coerce_2d) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (auto s = RequireFloat(in[0], "input"); !s.ok()) return s;
    if (in[0].shape.empty()) return absl::InvalidArgumentError("Softmax needs rank >= 1");
    auto axis = NormalizeAxis(axis_, in[0].shape.size());
    if (!axis.ok()) return axis.status();
    const memory::desc md = MemoryDesc(in[0]);
    memory::desc view = md;
    int softmax_axis = *axis;
    if (coerce_2d_) {
      const Shape& d = in[0].shape;
      const int64_t rows = NumElements(absl::MakeConstSpan(d).subspan(0, *axis));
      const int64_t cols = NumElements(absl::MakeConstSpan(d).subspan(*axis));
      view = memory::desc({rows, cols}, memory::data_type::f32, memory::format_tag::ab);
      softmax_axis = 1;
    }
    dnnl::softmax_forward::primitive_desc pd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, view, softmax_axis),
        UserScratchpadAttr(), CpuEngine());
    PlannedStep p;
    p.step = MakeSrcDstStep(dnnl::softmax_forward(pd), view, pd.scratchpad_desc());
    p.outputs = {in[0]};
    return p;
  }

 private:
  const int64_t axis_;
  const bool coerce_2d_;
};

// Runs the layer normalization primitive; with statistics requested, it writes σ² into
// the InvStdDev buffer and turns it into 1 / sqrt(σ² + ε) in place afterwards.
class LayerNormStep final : public Step {
 public:
  LayerNormStep(dnnl::layer_normalization_forward::primitive_desc pd, memory::desc data,
                memory::desc param, memory::desc stat, bool has_bias, int num_outputs,
                float epsilon)
      : primitive_(pd), data_(data), param_(param), stat_(stat),
        scratchpad_(pd.scratchpad_desc()), has_bias_(has_bias), num_outputs_(num_outputs),
        epsilon_(epsilon) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(data_, eng, const_cast<void*>(c.inputs[0]))},
        {DNNL_ARG_SCALE, memory(param_, eng, const_cast<void*>(c.inputs[1]))},
        {DNNL_ARG_DST, memory(data_, eng, c.outputs[0])},
        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_, eng, c.scratchpad)}};
    if (has_bias_) args.emplace(DNNL_ARG_SHIFT, memory(param_, eng, const_cast<void*>(c.inputs[2])));
    if (num_outputs_ > 1) {
      // forward_training writes μ and σ² (outputs Mean and InvStdDev; see below).
      args.emplace(DNNL_ARG_MEAN, memory(stat_, eng, c.outputs[1]));
      args.emplace(DNNL_ARG_VARIANCE, memory(stat_, eng, c.outputs[2]));
    }
    primitive_.execute(c.stream, args);
    if (num_outputs_ > 1) {
      c.stream.wait();
      float* inv = static_cast<float*>(c.outputs[2]);
      const int64_t n = stat_.dims()[0];
      for (int64_t i = 0; i < n; ++i) inv[i] = 1.f / std::sqrt(inv[i] + epsilon_);
    }
  }
  size_t scratchpad_bytes() const override { return scratchpad_.get_size(); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::layer_normalization_forward primitive_;
  const memory::desc data_, param_, stat_, scratchpad_;
  const bool has_bias_;
  const int num_outputs_;
  const float epsilon_;
};

class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(int64_t axis, float epsilon, bool has_bias, int num_outputs)
      : axis_(axis), epsilon_(epsilon), has_bias_(has_bias), num_outputs_(num_outputs) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    for (size_t i = 0; i < in.size(); ++i) {
      if (auto s = RequireFloat(in[i], i == 0 ? "X" : "scale/bias"); !s.ok()) return s;
    }
    const Shape& x = in[0].shape;
    if (x.empty()) return absl::InvalidArgumentError("LayerNormalization needs rank >= 1");
    auto axis = NormalizeAxis(axis_, x.size());
    if (!axis.ok()) return axis.status();
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < static_cast<int>(x.size()); ++d) (d < *axis ? outer : inner) *= x[d];
    for (size_t i = 1; i < in.size(); ++i) {
      if (NumElements(in[i].shape) != inner) {
        return absl::UnimplementedError(absl::StrCat(
            "scale/bias of shape ", ShapeToString(in[i].shape), " must have the ", inner,
            " elements of the normalized dims ", ShapeToString(Shape(x.begin() + *axis, x.end())),
            " (broadcast scale/bias is not supported)"));
      }
    }
    const memory::desc data({outer, inner}, dt::f32, tag::ab);
    const memory::desc param({inner}, dt::f32, tag::a);
    const memory::desc stat({outer}, dt::f32, tag::a);
    auto flags = dnnl::normalization_flags::use_scale;
    if (has_bias_) flags |= dnnl::normalization_flags::use_shift;
    const auto prop = num_outputs_ > 1 ? dnnl::prop_kind::forward_training
                                       : dnnl::prop_kind::forward_inference;
    dnnl::layer_normalization_forward::primitive_desc pd(
        dnnl::layer_normalization_forward::desc(prop, data, stat, epsilon_, flags),
        UserScratchpadAttr(), CpuEngine());
    PlannedStep p;
    p.step = std::make_unique<LayerNormStep>(pd, data, param, stat, has_bias_, num_outputs_, epsilon_);
    p.outputs = {ValueDesc{DType::kFloat32, x}};
    Shape stat_shape = x;
    for (size_t d = *axis; d < stat_shape.size(); ++d) stat_shape[d] = 1;
    for (int o = 1; o < num_outputs_; ++o) p.outputs.push_back(ValueDesc{DType::kFloat32, stat_shape});
    return p;
  }

 private:
  const int64_t axis_;
  const float epsilon_;
  const bool has_bias_;
  const int num_outputs_;
};

}  // namespace

void RegisterTransformerKernels(std::map<std::string, KernelBuilder>& r) {
  r["Softmax"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{
        std::make_unique<SoftmaxKernel>(n.GetInt("axis", -1), n.GetInt("coerce_2d", 0) != 0),
        {n.Input(0)}};
  };
  r["LayerNormalization"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    if (n.outputs.size() == 2) {
      return absl::UnimplementedError("LayerNormalization with Mean but not InvStdDev");
    }
    const bool has_bias = !n.Input(2).empty();
    std::vector<std::string> inputs{n.Input(0), n.Input(1)};
    if (has_bias) inputs.push_back(n.Input(2));
    return BuiltKernel{std::make_unique<LayerNormKernel>(n.GetInt("axis", -1),
                                                         n.GetFloat("epsilon", 1e-5f), has_bias,
                                                         static_cast<int>(n.outputs.size())),
                       inputs};
  };
}

}  // namespace q8::engine::dnnl_backend
