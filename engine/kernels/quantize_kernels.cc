// QuantizeLinear, DequantizeLinear, and the reference (scalar) integer matrix products
// QLinearMatMul / MatMulInteger for the cases the oneDNN QGemm does not take (runtime
// weights, uint8 weights with zero points). Scales and zero points may be runtime inputs,
// as in ONNX's conformance cases; the heavy int8 path is q8.QGemm (qgemm_kernel.cc).
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::dnnl_backend {
namespace {

// Reads element i of a 0-/1-D scale or zero-point buffer of the given dtype.
int32_t ZeroPointAt(const void* p, DType dtype, int64_t i) {
  if (p == nullptr) return 0;
  switch (dtype) {
    case DType::kUint8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::kInt8:
      return static_cast<const int8_t*>(p)[i];
    case DType::kInt32:
      return static_cast<const int32_t*>(p)[i];
    default:
      return 0;
  }
}

// Checks that a scale / zero point is per-tensor or matches x's `axis` dim.
absl::StatusOr<quant::AxisLayout> ParamLayout(const ValueDesc& x, const ValueDesc& param,
                                              int64_t axis_attr, const char* what) {
  const int64_t count = NumElements(param.shape);
  if (param.shape.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a scalar or 1-D, got shape ", ShapeToString(param.shape)));
  }
  if (count == 1 && param.shape.size() <= 1) return quant::AxisLayout{};
  auto axis = NormalizeAxis(axis_attr, x.shape.size());
  if (!axis.ok()) return axis.status();
  if (x.shape[*axis] != count) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", count, " values but axis ", *axis,
                                                   " of ", ShapeToString(x.shape), " has size ",
                                                   x.shape[*axis]));
  }
  if (x.layout == Layout::kChannelsLast && x.shape.size() >= 3) {
    // Stored N, spatial..., C: the parameters run along the physical order.
    Shape physical{x.shape[0]};
    physical.insert(physical.end(), x.shape.begin() + 2, x.shape.end());
    physical.push_back(x.shape[1]);
    const int phys_axis =
        *axis == 0 ? 0 : (*axis == 1 ? static_cast<int>(x.shape.size()) - 1 : *axis - 1);
    return quant::MakeAxisLayout(physical, phys_axis, count);
  }
  return quant::MakeAxisLayout(x.shape, *axis, count);
}

// A zero point given at run time must come one per scale: the loops read zp[c] wherever
// they read scale[c].
absl::Status CheckZeroPointShape(const ValueDesc& scale, const ValueDesc& zp,
                                 const char* scale_name, const char* zp_name) {
  if (zp.shape.size() > 1 || NumElements(zp.shape) != NumElements(scale.shape)) {
    return absl::InvalidArgumentError(
        absl::StrCat(zp_name, " has shape ", ShapeToString(zp.shape), " but ", scale_name,
                     " has shape ", ShapeToString(scale.shape), "; they must have the same shape"));
  }
  return absl::OkStatus();
}

// Per-tensor QuantizeLinear of a plain NCHW (NCDHW) float into channels-last storage:
// quantized plain into the workspace (QuantizeSpan, 1 byte per element), then one oneDNN
// reorder of the bytes into NHWC. Cheaper than leaving the value plain and letting each
// reading convolution / residual add reorder it on its own.
class QuantizeToChannelsLastStep final : public Step {
 public:
  QuantizeToChannelsLastStep(const ValueDesc& out, bool has_zp)
      : n_(NumElements(out.shape)),
        dtype_(out.dtype),
        has_zp_(has_zp),
        plain_(MemoryDesc(ValueDesc{out.dtype, out.shape, Layout::kPlain})),
        channels_last_(MemoryDesc(out)),
        reorder_(dnnl::reorder::primitive_desc(CpuEngine(), plain_, CpuEngine(), channels_last_)) {}

  void Execute(const StepContext& c) const override {
    const float* x = static_cast<const float*>(c.inputs[0]);
    const float scale = *static_cast<const float*>(c.inputs[1]);
    if (dtype_ == DType::kUint8) {
      const int32_t z = has_zp_ ? *static_cast<const uint8_t*>(c.inputs[2]) : 0;
      quant::QuantizeSpan(x, n_, scale, z, static_cast<uint8_t*>(c.workspace));
    } else {
      const int32_t z = has_zp_ ? *static_cast<const int8_t*>(c.inputs[2]) : 0;
      quant::QuantizeSpan(x, n_, scale, z, static_cast<int8_t*>(c.workspace));
    }
    const auto& eng = CpuEngine();
    dnnl::memory from(plain_, eng, c.workspace), to(channels_last_, eng, c.outputs[0]);
    reorder_.execute(c.stream, from, to);
  }
  size_t workspace_bytes() const override { return static_cast<size_t>(n_); }
  const dnnl::primitive* main_primitive() const override { return &reorder_; }

 private:
  const int64_t n_;
  const DType dtype_;
  const bool has_zp_;
  const dnnl::memory::desc plain_, channels_last_;
  const dnnl::reorder reorder_;
};

// by_reciprocal (the internal attribute scale_reciprocal = 1, set by the TFLite importer
// on float → int8 QUANTIZE): y = round(x · fl(1/s)) + z, quant::QuantizeByReciprocal;
// per-tensor only.
class QuantizeLinearKernel final : public Kernel {
 public:
  QuantizeLinearKernel(int64_t axis, bool has_zp, bool by_reciprocal)
      : axis_(axis), has_zp_(has_zp), by_reciprocal_(by_reciprocal) {}
  void PreferChannelsLastOutput() override { prefer_channels_last_ = true; }

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != DType::kFloat32 || in[1].dtype != DType::kFloat32) {
      return absl::UnimplementedError("QuantizeLinear supports float32 input and scale");
    }
    auto layout = ParamLayout(x, in[1], axis_, "y_scale");
    if (!layout.ok()) return layout.status();
    if (has_zp_) {
      if (auto s = CheckZeroPointShape(in[1], in[2], "y_scale", "y_zero_point"); !s.ok()) return s;
    }
    const DType out = has_zp_ ? in[2].dtype : DType::kUint8;
    if (out != DType::kUint8 && out != DType::kInt8) {
      return absl::UnimplementedError(
          absl::StrCat("QuantizeLinear to ", DTypeName(out), " is not supported (uint8, int8)"));
    }
    const int64_t n = NumElements(x.shape);
    const auto l = *layout;
    const bool has_zp = has_zp_;
    if (by_reciprocal_) {
      if (l.channels != 1) {
        return absl::UnimplementedError("scale_reciprocal QuantizeLinear must be per-tensor");
      }
      PlannedStep p;
      p.step = std::make_unique<FunctionStep>([n, out, has_zp](const StepContext& c) {
        const float* xs = static_cast<const float*>(c.inputs[0]);
        const float inv = 1.f / *static_cast<const float*>(c.inputs[1]);
        if (out == DType::kUint8) {
          const int32_t z = has_zp ? *static_cast<const uint8_t*>(c.inputs[2]) : 0;
          auto* y = static_cast<uint8_t*>(c.outputs[0]);
#pragma omp parallel for if (n > 65536)
          for (int64_t i = 0; i < n; ++i) y[i] = quant::QuantizeByReciprocal<uint8_t>(xs[i], inv, z);
        } else {
          const int32_t z = has_zp ? *static_cast<const int8_t*>(c.inputs[2]) : 0;
          auto* y = static_cast<int8_t*>(c.outputs[0]);
#pragma omp parallel for if (n > 65536)
          for (int64_t i = 0; i < n; ++i) y[i] = quant::QuantizeByReciprocal<int8_t>(xs[i], inv, z);
        }
      });
      p.outputs = {ValueDesc{out, x.shape, x.layout}};
      return p;
    }
    if (prefer_channels_last_ && x.layout == Layout::kPlain && l.channels == 1 &&
        (x.shape.size() == 4 || x.shape.size() == 5)) {
      const ValueDesc y{out, x.shape, Layout::kChannelsLast};
      PlannedStep p;
      p.step = std::make_unique<QuantizeToChannelsLastStep>(y, has_zp);
      p.outputs = {y};
      return p;
    }
    auto run = [n, l, out, has_zp](const StepContext& c) {
      const float* xs = static_cast<const float*>(c.inputs[0]);
      const float* scale = static_cast<const float*>(c.inputs[1]);
      const void* zp = has_zp ? c.inputs[2] : nullptr;
      if (out == DType::kUint8) {
        quant::QuantizeLoop(xs, n, scale, static_cast<const uint8_t*>(zp), l,
                            static_cast<uint8_t*>(c.outputs[0]));
      } else {
        quant::QuantizeLoop(xs, n, scale, static_cast<const int8_t*>(zp), l,
                            static_cast<int8_t*>(c.outputs[0]));
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(run);
    p.outputs = {ValueDesc{out, x.shape, x.layout}};  // element-wise: layout kept
    return p;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const int64_t axis_;
  const bool has_zp_;
  const bool by_reciprocal_;
  bool prefer_channels_last_ = false;  // set once by the compiler, before any Plan
};

class DequantizeLinearKernel final : public Kernel {
 public:
  DequantizeLinearKernel(int64_t axis, bool has_zp) : axis_(axis), has_zp_(has_zp) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& x = in[0];
    if (x.dtype != DType::kUint8 && x.dtype != DType::kInt8 && x.dtype != DType::kInt32) {
      return absl::UnimplementedError(absl::StrCat("DequantizeLinear of ", DTypeName(x.dtype),
                                                   " is not supported (uint8, int8, int32)"));
    }
    if (has_zp_ && in[2].dtype != x.dtype) {
      return absl::InvalidArgumentError(absl::StrCat("x_zero_point is ", DTypeName(in[2].dtype),
                                                     " but x is ", DTypeName(x.dtype),
                                                     "; they must have the same type"));
    }
    if (in[1].dtype != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("x_scale is ", DTypeName(in[1].dtype), "; scales are float32"));
    }
    auto layout = ParamLayout(x, in[1], axis_, "x_scale");
    if (!layout.ok()) return layout.status();
    if (has_zp_) {
      if (auto s = CheckZeroPointShape(in[1], in[2], "x_scale", "x_zero_point"); !s.ok()) return s;
    }
    const int64_t n = NumElements(x.shape);
    const auto l = *layout;
    const DType dt = x.dtype;
    const bool has_zp = has_zp_;
    auto run = [n, l, dt, has_zp](const StepContext& c) {
      const float* scale = static_cast<const float*>(c.inputs[1]);
      const void* zp = has_zp ? c.inputs[2] : nullptr;
      float* y = static_cast<float*>(c.outputs[0]);
      switch (dt) {
        case DType::kUint8:
          quant::DequantizeLoop(static_cast<const uint8_t*>(c.inputs[0]), n, scale,
                                static_cast<const uint8_t*>(zp), l, y);
          break;
        case DType::kInt8:
          quant::DequantizeLoop(static_cast<const int8_t*>(c.inputs[0]), n, scale,
                                static_cast<const int8_t*>(zp), l, y);
          break;
        default:
          quant::DequantizeLoop(static_cast<const int32_t*>(c.inputs[0]), n, scale,
                                static_cast<const int32_t*>(zp), l, y);
          break;
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(run);
    p.outputs = {ValueDesc{DType::kFloat32, x.shape, x.layout}};  // element-wise: layout kept
    return p;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const int64_t axis_;
  const bool has_zp_;
};

// Σ_k (a - za)(b - zb) per output element, for any 8-bit operand types. Used by the two
// reference kernels below.
void IntegerMatMul(const MatMulDims& d, const void* a, DType at, const void* b, DType bt,
                   int32_t za, absl::Span<const int32_t> zb, int32_t* acc) {
  const int64_t a_stride = d.M * d.K, b_stride = d.b_batched ? d.K * d.N : 0;
  for (int64_t i = 0; i < d.batch; ++i) {
    auto call = [&](auto* ap, auto* bp) {
      quant::ReferenceMatMulInt(ap + i * a_stride, bp + i * b_stride, d.M, d.K, d.N, za, zb,
                                acc + i * d.M * d.N);
    };
    const bool au = at == DType::kUint8, bu = bt == DType::kUint8;
    const auto* a8u = static_cast<const uint8_t*>(a);
    const auto* a8s = static_cast<const int8_t*>(a);
    const auto* b8u = static_cast<const uint8_t*>(b);
    const auto* b8s = static_cast<const int8_t*>(b);
    if (au && bu)
      call(a8u, b8u);
    else if (au)
      call(a8u, b8s);
    else if (bu)
      call(a8s, b8u);
    else
      call(a8s, b8s);
  }
}

bool IsInt8(DType t) { return t == DType::kUint8 || t == DType::kInt8; }

// QLinearMatMul: y = saturate(round((a - za)·sa @ (b - zb)·sb / sy) + zy).
// Inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp (all runtime here).
class ReferenceQLinearMatMulKernel final : public Kernel {
 public:
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (!IsInt8(in[0].dtype) || !IsInt8(in[3].dtype) || !IsInt8(in[7].dtype)) {
      return absl::UnimplementedError("QLinearMatMul operands must be uint8 or int8");
    }
    for (int i : {1, 4, 6}) {
      if (in[i].dtype != DType::kFloat32) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input #", i, " (a scale) is ", DTypeName(in[i].dtype), "; scales are float32"));
      }
    }
    for (int i : {0, 3}) {
      if (in[i + 2].dtype != in[i].dtype) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input #", i + 2, " (zero point) is ", DTypeName(in[i + 2].dtype), " but input #", i,
            " is ", DTypeName(in[i].dtype), "; a zero point has the type of its tensor"));
      }
    }
    auto dims = InferMatMulDims(in[0].shape, in[3].shape);
    if (!dims.ok()) return dims.status();
    const int64_t nb = NumElements(in[4].shape);
    if (NumElements(in[1].shape) != 1 || NumElements(in[2].shape) != 1 ||
        NumElements(in[6].shape) != 1 || (nb != 1 && nb != dims->N) ||
        NumElements(in[5].shape) != nb) {
      return absl::UnimplementedError(
          "QLinearMatMul: a and y quantization must be per-tensor, b per-tensor or per-column");
    }
    const MatMulDims d = *dims;
    const DType at = in[0].dtype, bt = in[3].dtype, yt = in[7].dtype;
    auto run = [d, at, bt, yt, nb](const StepContext& c) {
      const float sa = *static_cast<const float*>(c.inputs[1]);
      const int32_t za = ZeroPointAt(c.inputs[2], at, 0);
      const float* sb = static_cast<const float*>(c.inputs[4]);
      std::vector<int32_t> zb(static_cast<size_t>(nb));
      for (int64_t j = 0; j < nb; ++j) zb[j] = ZeroPointAt(c.inputs[5], bt, j);
      const float sy = *static_cast<const float*>(c.inputs[6]);
      const int32_t zy = ZeroPointAt(c.inputs[7], yt, 0);
      const int64_t total = d.batch * d.M * d.N;
      std::vector<int32_t> acc(static_cast<size_t>(total));
      IntegerMatMul(d, c.inputs[0], at, c.inputs[3], bt, za, zb, acc.data());
      for (int64_t i = 0; i < total; ++i) {
        const float real = static_cast<float>(acc[i]) * (sa * sb[nb == 1 ? 0 : i % d.N]);
        if (yt == DType::kUint8) {
          static_cast<uint8_t*>(c.outputs[0])[i] = quant::Quantize<uint8_t>(real, sy, zy);
        } else {
          static_cast<int8_t*>(c.outputs[0])[i] = quant::Quantize<int8_t>(real, sy, zy);
        }
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(run);
    p.outputs = {ValueDesc{yt, d.out}};
    return p;
  }
};

// MatMulInteger: y(int32) = (A - a_zp) @ (B - b_zp).
class ReferenceMatMulIntegerKernel final : public Kernel {
 public:
  // Runtime inputs: A, B, then a_zero_point if has_za, then b_zero_point if has_zb.
  ReferenceMatMulIntegerKernel(bool has_za, bool has_zb) : has_za_(has_za), has_zb_(has_zb) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (!IsInt8(in[0].dtype) || !IsInt8(in[1].dtype)) {
      return absl::UnimplementedError("MatMulInteger operands must be uint8 or int8");
    }
    auto dims = InferMatMulDims(in[0].shape, in[1].shape);
    if (!dims.ok()) return dims.status();
    const bool has_za = has_za_, has_zb = has_zb_;
    const size_t za = 2, zb = has_za ? 3 : 2;  // runtime input indices
    for (int i = 0; i < 2; ++i) {
      if (!(i == 0 ? has_za : has_zb)) continue;
      const ValueDesc& z = in[i == 0 ? za : zb];
      if (z.dtype != in[i].dtype) {
        return absl::InvalidArgumentError(
            absl::StrCat(i == 0 ? "a_zero_point" : "b_zero_point", " is ", DTypeName(z.dtype),
                         " but ", i == 0 ? "A" : "B", " is ", DTypeName(in[i].dtype),
                         "; a zero point has the type of its tensor"));
      }
    }
    if (has_za && NumElements(in[za].shape) != 1) {
      return absl::UnimplementedError("MatMulInteger: a_zero_point must be per-tensor");
    }
    const int64_t nb = has_zb ? NumElements(in[zb].shape) : 1;
    if (nb != 1 && nb != dims->N) {
      return absl::InvalidArgumentError("MatMulInteger: b_zero_point must have 1 or N values");
    }
    const MatMulDims d = *dims;
    const DType at = in[0].dtype, bt = in[1].dtype;
    auto run = [d, at, bt, has_za, has_zb, nb, za, zb](const StepContext& c) {
      const int32_t a_zp = has_za ? ZeroPointAt(c.inputs[za], at, 0) : 0;
      std::vector<int32_t> b_zp(static_cast<size_t>(nb), 0);
      for (int64_t j = 0; has_zb && j < nb; ++j) b_zp[j] = ZeroPointAt(c.inputs[zb], bt, j);
      IntegerMatMul(d, c.inputs[0], at, c.inputs[1], bt, a_zp, b_zp,
                    static_cast<int32_t*>(c.outputs[0]));
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(run);
    p.outputs = {ValueDesc{DType::kInt32, d.out}};
    return p;
  }

 private:
  const bool has_za_, has_zb_;
};

std::vector<std::string> NonEmptyInputs(const ir::Node& node, size_t max) {
  std::vector<std::string> out;
  for (size_t i = 0; i < node.inputs.size() && i < max; ++i) {
    if (node.inputs[i].empty()) break;  // trailing optional inputs
    out.push_back(node.inputs[i]);
  }
  return out;
}

}  // namespace

void RegisterQuantizeKernels(std::map<std::string, KernelBuilder>& r) {
  r["QuantizeLinear"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    auto ins = NonEmptyInputs(n, 3);
    if (ins.size() < 2) return absl::InvalidArgumentError("needs x and y_scale");
    return BuiltKernel{std::make_unique<QuantizeLinearKernel>(n.GetInt("axis", 1), ins.size() > 2,
                                                              n.GetInt("scale_reciprocal", 0) != 0),
                       ins};
  };
  r["DequantizeLinear"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    auto ins = NonEmptyInputs(n, 3);
    if (ins.size() < 2) return absl::InvalidArgumentError("needs x and x_scale");
    return BuiltKernel{
        std::make_unique<DequantizeLinearKernel>(n.GetInt("axis", 1), ins.size() > 2), ins};
  };
  r["QLinearMatMul"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    auto ins = NonEmptyInputs(n, 8);
    if (ins.size() != 8) return absl::InvalidArgumentError("needs 8 inputs");
    return BuiltKernel{std::make_unique<ReferenceQLinearMatMulKernel>(), ins};
  };
  r["MatMulInteger"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    // a_zero_point may be omitted ("") while b_zero_point is given: both are optional.
    if (n.Input(0).empty() || n.Input(1).empty()) {
      return absl::InvalidArgumentError("needs A and B");
    }
    std::vector<std::string> ins{n.Input(0), n.Input(1)};
    for (size_t i : {2, 3}) {
      if (!n.Input(i).empty()) ins.push_back(n.Input(i));
    }
    return BuiltKernel{
        std::make_unique<ReferenceMatMulIntegerKernel>(!n.Input(2).empty(), !n.Input(3).empty()),
        ins};
  };
}

}  // namespace q8::engine::dnnl_backend
