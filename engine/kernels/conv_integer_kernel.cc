// ConvInteger, and QLinearConv whose weights are not a constant int8 tensor with zero
// zero-points (ONNX's conformance cases feed everything at run time; uint8 weights): a
// scalar reference convolution, 2-D, plain layout, exact in int32:
//
//   acc[n,oc,oy,ox] = Σ_{ic ∈ group(oc), ky, kx} (x[n,ic,iy,ix] - z_x) · (w[oc,ic,ky,kx] - z_w[oc])
//     with iy = oy·s_y - pad_top + ky·d_y (likewise ix); padded positions contribute 0
//   ConvInteger:  y = acc                                                      (int32)
//   QLinearConv:  y_q = saturate(round_half_even((acc + b[oc]) · s_x·s_w[oc] / s_y) + z_y)
//
// The fast path is q8.QConv (conv_kernels.cc); this one exists for correctness.
#include <cmath>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/window_geometry.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::dnnl_backend {
namespace {

// Element i of an optional scalar / per-channel integer buffer (0 when absent).
int32_t IntAt(const void* p, DType dtype, int64_t count, int64_t i) {
  if (p == nullptr) return 0;
  const int64_t k = count == 1 ? 0 : i;
  switch (dtype) {
    case DType::kUint8: return static_cast<const uint8_t*>(p)[k];
    case DType::kInt8: return static_cast<const int8_t*>(p)[k];
    case DType::kInt32: return static_cast<const int32_t*>(p)[k];
    default: return 0;
  }
}

struct IntConvShape {
  int64_t N, C, H, W, OC, ICg, KH, KW, OH, OW, groups;
  WindowPlan window;
};

// Runtime inputs, in the node's order; `quantized` selects QLinearConv's layout
// (x, xs, xz, w, ws, wz, ys, yz, [b]) over ConvInteger's (x, w, [xz], [wz]).
class ConvIntegerKernel final : public Kernel {
 public:
  ConvIntegerKernel(WindowAttrs window, int64_t groups, bool quantized, std::vector<bool> present)
      : window_(std::move(window)), groups_(groups), quantized_(quantized),
        present_(std::move(present)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    // Map the present inputs back to the node's input slots.
    std::vector<int> slot(present_.size(), -1);
    for (size_t i = 0, k = 0; i < present_.size(); ++i) {
      if (present_[i]) slot[i] = static_cast<int>(k++);
    }
    const int xi = 0, wi = quantized_ ? 3 : 1;
    const int xz = quantized_ ? 2 : 2, wz = quantized_ ? 5 : 3;
    const ValueDesc& x = in[slot[xi]];
    const ValueDesc& w = in[slot[wi]];
    for (const ValueDesc* v : {&x, &w}) {
      if (v->dtype != DType::kUint8 && v->dtype != DType::kInt8) {
        return absl::UnimplementedError(absl::StrCat("integer convolution of ", DTypeName(v->dtype),
                                                     " (uint8, int8)"));
      }
    }
    if (x.shape.size() != 4 || w.shape.size() != 4 ||
        w.shape[0] % groups_ != 0 || x.shape[1] != w.shape[1] * groups_) {
      return absl::UnimplementedError(absl::StrCat(
          "integer convolution of ", ShapeToString(x.shape), " by ", ShapeToString(w.shape),
          " in ", groups_, " groups (2-D, NCHW only)"));
    }
    auto attrs = window_.Resolve(Shape(w.shape.begin() + 2, w.shape.end()));
    if (!attrs.ok()) return attrs.status();
    auto window = PlanWindow(*attrs, absl::MakeConstSpan(x.shape).subspan(2));
    if (!window.ok()) return window.status();
    const IntConvShape s{x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[1],
                         w.shape[2], w.shape[3], window->out[0], window->out[1], groups_, *window};
    DType out = DType::kInt32;
    if (quantized_) out = present_[7] ? in[slot[7]].dtype : DType::kUint8;
    if (auto s = CheckParams(in, slot, x, w, out, xz, wz); !s.ok()) return s;
    const DType xt = x.dtype, wt = w.dtype;
    const int64_t wz_count = present_[wz] ? NumElements(in[slot[wz]].shape) : 1;
    const int64_t ws_count = quantized_ ? NumElements(in[slot[4]].shape) : 1;
    const DType zx_t = present_[xz] ? in[slot[xz]].dtype : xt;
    const DType zw_t = present_[wz] ? in[slot[wz]].dtype : wt;
    const bool quantized = quantized_;
    auto ptr = [slot](const StepContext& c, int i) -> const void* {
      return slot[i] < 0 ? nullptr : c.inputs[slot[i]];
    };
    auto run = [=](const StepContext& c) {
      const int32_t zx = IntAt(ptr(c, xz), zx_t, 1, 0);
      std::vector<int32_t> acc(static_cast<size_t>(s.N * s.OC * s.OH * s.OW));
      Accumulate(s, c.inputs[slot[xi]], xt, zx, c.inputs[slot[wi]], wt, ptr(c, wz), zw_t,
                 wz_count, acc.data());
      if (!quantized) {
        std::copy(acc.begin(), acc.end(), static_cast<int32_t*>(c.outputs[0]));
        return;
      }
      const float sx = *static_cast<const float*>(ptr(c, 1));
      const float* sw = static_cast<const float*>(ptr(c, 4));
      const float sy = *static_cast<const float*>(ptr(c, 6));
      const int32_t zy = IntAt(ptr(c, 7), out, 1, 0);
      const int32_t* bias = static_cast<const int32_t*>(ptr(c, 8));
      const int64_t plane = s.OH * s.OW;
      for (size_t i = 0; i < acc.size(); ++i) {
        const int64_t oc = static_cast<int64_t>(i) / plane % s.OC;
        const float v = static_cast<float>(acc[i] + (bias ? bias[oc] : 0)) *
                        (sx * sw[ws_count == 1 ? 0 : oc] / sy);
        if (out == DType::kUint8) {
          static_cast<uint8_t*>(c.outputs[0])[i] = quant::Quantize<uint8_t>(v, 1.f, zy);
        } else {
          static_cast<int8_t*>(c.outputs[0])[i] = quant::Quantize<int8_t>(v, 1.f, zy);
        }
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(run);
    p.outputs = {ValueDesc{out, {s.N, s.OC, s.OH, s.OW}}};
    return p;
  }

 private:
  // The parameters the loops index, given at run time (ONNX's conformance cases feed them
  // so): scales float32, x's and y's one value, w's 1 or one per output channel; zero
  // points of their tensor's type, counted likewise; the bias int32 [OC].
  absl::Status CheckParams(absl::Span<const ValueDesc> in, const std::vector<int>& slot,
                           const ValueDesc& x, const ValueDesc& w, DType out, int xz,
                           int wz) const {
    const int64_t oc = w.shape[0];
    auto count_error = [&](const char* name, const ValueDesc& v, const std::string& want) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " has shape ", ShapeToString(v.shape), "; it must have ", want));
    };
    auto check_zp = [&](int input, const char* name, const ValueDesc& of, bool per_channel) {
      if (!present_[input]) return absl::OkStatus();
      const ValueDesc& z = in[slot[input]];
      if (z.dtype != of.dtype) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " is ", DTypeName(z.dtype), " but its tensor is ",
                         DTypeName(of.dtype), "; a zero point has the type of its tensor"));
      }
      const int64_t n = NumElements(z.shape);
      if (z.shape.size() > 1 || (n != 1 && !(per_channel && n == oc))) {
        return count_error(name, z, per_channel ? absl::StrCat("1 or ", oc, " values") : "1 value");
      }
      return absl::OkStatus();
    };
    if (auto s = check_zp(xz, "x_zero_point", x, false); !s.ok()) return s;
    if (auto s = check_zp(wz, "w_zero_point", w, true); !s.ok()) return s;
    if (!quantized_) return absl::OkStatus();
    if (out != DType::kUint8 && out != DType::kInt8) {
      return absl::InvalidArgumentError(
          absl::StrCat("y_zero_point is ", DTypeName(out), "; zero points are uint8 or int8"));
    }
    if (present_[7] && NumElements(in[slot[7]].shape) != 1) {
      return count_error("y_zero_point", in[slot[7]], "1 value");
    }
    for (const auto& [input, name, per_channel] :
         {std::make_tuple(1, "x_scale", false), std::make_tuple(4, "w_scale", true),
          std::make_tuple(6, "y_scale", false)}) {
      const ValueDesc& v = in[slot[input]];
      if (v.dtype != DType::kFloat32) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " is ", DTypeName(v.dtype), "; scales are float32"));
      }
      const int64_t n = NumElements(v.shape);
      if (v.shape.size() > 1 || (n != 1 && !(per_channel && n == oc))) {
        return count_error(name, v, per_channel ? absl::StrCat("1 or ", oc, " values") : "1 value");
      }
    }
    if (present_[8]) {
      const ValueDesc& b = in[slot[8]];
      if (b.dtype != DType::kInt32 || b.shape.size() != 1 || b.shape[0] != oc) {
        return absl::InvalidArgumentError(absl::StrCat("bias is ", DTypeName(b.dtype), " ",
                                                       ShapeToString(b.shape),
                                                       "; it must be int32 [", oc, "]"));
      }
    }
    return absl::OkStatus();
  }

  static void Accumulate(const IntConvShape& s, const void* x, DType xt, int32_t zx, const void* w,
                         DType wt, const void* zw, DType zw_t, int64_t zw_count, int32_t* acc) {
    const int64_t ocg = s.OC / s.groups;
    for (int64_t n = 0; n < s.N; ++n) {
      for (int64_t oc = 0; oc < s.OC; ++oc) {
        const int64_t g = oc / ocg;
        const int32_t wzp = IntAt(zw, zw_t, zw_count, oc);
        for (int64_t oy = 0; oy < s.OH; ++oy) {
          for (int64_t ox = 0; ox < s.OW; ++ox) {
            int32_t sum = 0;
            for (int64_t ic = 0; ic < s.ICg; ++ic) {
              const int64_t c = g * s.ICg + ic;
              for (int64_t ky = 0; ky < s.KH; ++ky) {
                const int64_t iy = oy * s.window.strides[0] - s.window.pad_l[0] +
                                   ky * (s.window.dilation[0] + 1);
                if (iy < 0 || iy >= s.H) continue;
                for (int64_t kx = 0; kx < s.KW; ++kx) {
                  const int64_t ix = ox * s.window.strides[1] - s.window.pad_l[1] +
                                     kx * (s.window.dilation[1] + 1);
                  if (ix < 0 || ix >= s.W) continue;
                  const int64_t xo = ((n * s.C + c) * s.H + iy) * s.W + ix;
                  const int64_t wo = ((oc * s.ICg + ic) * s.KH + ky) * s.KW + kx;
                  sum += (IntAt(x, xt, 2, xo) - zx) * (IntAt(w, wt, 2, wo) - wzp);
                }
              }
            }
            acc[((n * s.OC + oc) * s.OH + oy) * s.OW + ox] = sum;
          }
        }
      }
    }
  }

  const WindowAttrs window_;
  const int64_t groups_;
  const bool quantized_;
  const std::vector<bool> present_;  // which node inputs are given
};

absl::StatusOr<BuiltKernel> BuildIntegerConv(const ir::Node& node, const ir::Graph& graph,
                                             bool quantized) {
  Shape kernel;
  const size_t wi = quantized ? 3 : 1;
  if (const Tensor* w = graph.FindConstant(node.Input(wi)); w && w->shape().size() > 2) {
    kernel.assign(w->shape().begin() + 2, w->shape().end());
  }
  auto window = WindowAttrs::FromNode(node, kernel);
  if (!window.ok()) return window.status();
  const int64_t groups = node.GetInt("group", 1);
  if (groups < 1) return absl::InvalidArgumentError(absl::StrCat("group ", groups));
  // Required inputs: x and w; QLinearConv's three scales too (its loops read them).
  std::vector<size_t> required{0, wi};
  if (quantized) required.insert(required.end(), {1, 4, 6});
  for (size_t i : required) {
    if (node.Input(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("input #", i, " is required"));
    }
  }
  BuiltKernel built;
  std::vector<bool> present(quantized ? 9 : 4, false);
  for (size_t i = 0; i < present.size(); ++i) {
    present[i] = !node.Input(i).empty();
    if (present[i]) built.runtime_inputs.push_back(node.Input(i));
  }
  built.kernel = std::make_unique<ConvIntegerKernel>(*std::move(window), groups, quantized,
                                                     std::move(present));
  return built;
}

}  // namespace

void RegisterConvIntegerKernels(std::map<std::string, KernelBuilder>& registry) {
  registry["ConvInteger"] = [](const ir::Node& n, const ir::Graph& g) {
    return BuildIntegerConv(n, g, /*quantized=*/false);
  };
  registry["q8.QLinearConvReference"] = [](const ir::Node& n, const ir::Graph& g) {
    return BuildIntegerConv(n, g, /*quantized=*/true);
  };
}

}  // namespace q8::engine::dnnl_backend
