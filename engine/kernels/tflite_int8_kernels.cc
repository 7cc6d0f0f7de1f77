// TFLite's integer kernels for the ops whose requantization differs from the engine's
// float one (passes/fold_tflite_int8.cc makes the nodes; the arithmetic, and how it was
// established against the reference interpreter, is in quant/tflite_arith.h):
//
//   q8.TfliteAdd          a_q, s_a, z_a, b_q, s_b, z_b, s_y, z_y   [subtract, act_min/max]
//   q8.TfliteMul          same inputs                              [act_min/max]
//   q8.TfliteAveragePool  x_q, s_x, z_x, s_y, z_y + pool attributes [act_min/max]
//   q8.TfliteMean         x_q, s_x, z_x, s_y, z_y  (mean over all spatial dims of NCHW)
//   q8.TfliteRequantize   x_q, s_x, z_x, s_y, z_y
//   q8.TfliteStoredMean   x_q, s_x, z_x, s_y, z_y + axes, keepdims (same parameters: the
//                         stored values averaged, plain layout, any rank)
//
// Loops of our own over int8 / uint8 values (not oneDNN primitives, so not counted in
// ModelInfo::num_int8_kernels) (small next to the convolutions around them:
// MobileNetV2's largest residual add is 56·56·24 elements). Element-wise kernels work in
// whatever layout their inputs have; the pools read NCHW logically, plain or channels-last.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/channels_last_input.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/tensor_quant.h"
#include "engine/kernels/window_geometry.h"
#include "engine/quant/tflite_arith.h"

namespace q8::engine::dnnl_backend {
namespace {

namespace tfl = quant::tflite;
constexpr float kInf = std::numeric_limits<float>::infinity();

int32_t StorageMin(DType t) { return t == DType::kUint8 ? 0 : -128; }
int32_t StorageMax(DType t) { return t == DType::kUint8 ? 255 : 127; }

// The fused activation's real bounds (±∞ when absent).
std::pair<float, float> ActivationBounds(const ir::Node& node) {
  return {node.GetFloat("act_min", -kInf), node.GetFloat("act_max", kInf)};
}

absl::Status CheckDType(const ValueDesc& v, DType want, const char* what) {
  if (v.dtype == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be ", DTypeName(want), ", got ", DTypeName(v.dtype)));
}

// ---------------------------------------------------------------------------------------
// Element-wise: y[i] = f(a[i], b[i]) / f(x[i]) over equal shapes, in the inputs' layout.

// Runs `fn(a, b, y, n)` on the buffers after bringing a plain operand to channels-last when
// the other one is (the workspace holds at most one reordered operand).
class ElementwiseStep final : public Step {
 public:
  using Fn = std::function<void(const void* a, const void* b, void* y, int64_t n)>;
  ElementwiseStep(Fn fn, int64_t n, std::vector<ChannelsLastInput> inputs)
      : fn_(std::move(fn)), n_(n), inputs_(std::move(inputs)) {}

  void Execute(const StepContext& c) const override {
    const void* a = inputs_[0].Prepare(c, c.inputs[0]);
    const void* b = inputs_.size() > 1 ? inputs_[1].Prepare(c, c.inputs[1]) : nullptr;
    fn_(a, b, c.outputs[0], n_);
  }
  size_t scratchpad_bytes() const override {
    size_t bytes = 0;
    for (const auto& in : inputs_) bytes = std::max(bytes, in.scratchpad_bytes());
    return bytes;
  }
  size_t workspace_bytes() const override {
    size_t bytes = 0;
    for (const auto& in : inputs_) bytes = std::max(bytes, in.workspace_bytes());
    return bytes;
  }

 private:
  const Fn fn_;
  const int64_t n_;
  const std::vector<ChannelsLastInput> inputs_;
};

// A kernel over 1 or 2 same-shaped inputs of one storage type `dtype`, output `dtype` too.
class ElementwiseKernel final : public Kernel {
 public:
  // fn(a, b, y, n) for each storage type: picked at Plan time from `dtype`.
  ElementwiseKernel(int arity, DType dtype, ElementwiseStep::Fn fn, std::string what)
      : arity_(arity), dtype_(dtype), fn_(std::move(fn)), what_(std::move(what)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    for (int i = 0; i < arity_; ++i) {
      if (auto s = CheckDType(in[i], dtype_, i == 0 ? "input #0" : "input #3"); !s.ok()) return s;
    }
    if (arity_ == 2 && in[0].shape != in[1].shape) {
      return absl::UnimplementedError(absl::StrCat(what_, " of shapes ", ShapeToString(in[0].shape),
                                                   " and ", ShapeToString(in[1].shape),
                                                   " (equal shapes only, no broadcasting)"));
    }
    bool channels_last = false;
    for (int i = 0; i < arity_; ++i)
      channels_last = channels_last || in[i].layout == Layout::kChannelsLast;
    const Layout layout = channels_last ? Layout::kChannelsLast : Layout::kPlain;
    std::vector<ChannelsLastInput> inputs;
    for (int i = 0; i < arity_; ++i) {
      inputs.emplace_back(in[i], MemoryDesc(ValueDesc{in[i].dtype, in[i].shape, layout}));
    }
    PlannedStep planned;
    planned.step =
        std::make_unique<ElementwiseStep>(fn_, NumElements(in[0].shape), std::move(inputs));
    planned.outputs = {ValueDesc{dtype_, in[0].shape, layout}};
    return planned;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const int arity_;
  const DType dtype_;
  const ElementwiseStep::Fn fn_;
  const std::string what_;
};

// The loops, compiled twice: for the build's baseline ISA and for AVX2 (chosen at run time),
// where the compiler vectorises the int32 multiplies and float rounding that SSE2 lacks.
// No FMA: a fused multiply-add would round differently from the scalar reference.
template <typename T, typename F>
void BinarySpan(const T* a, const T* b, T* y, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(f(a[i], b[i]));
}
template <typename T, typename F>
__attribute__((target("avx2"))) void BinarySpanAvx2(const T* a, const T* b, T* y, int64_t n,
                                                    const F& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(f(a[i], b[i]));
}
template <typename T, typename F>
void UnarySpan(const T* x, T* y, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(f(x[i]));
}
template <typename T, typename F>
__attribute__((target("avx2"))) void UnarySpanAvx2(const T* x, T* y, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(f(x[i]));
}

bool HasAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

template <typename T, typename F>
ElementwiseStep::Fn BinaryLoop(F f) {
  return [f](const void* a, const void* b, void* y, int64_t n) {
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    T* py = static_cast<T*>(y);
    if (HasAvx2()) {
      BinarySpanAvx2(pa, pb, py, n, f);
    } else {
      BinarySpan(pa, pb, py, n, f);
    }
  };
}

template <typename T, typename F>
ElementwiseStep::Fn UnaryLoop(F f) {
  return [f](const void* x, const void*, void* y, int64_t n) {
    const T* px = static_cast<const T*>(x);
    T* py = static_cast<T*>(y);
    if (HasAvx2()) {
      UnarySpanAvx2(px, py, n, f);
    } else {
      UnarySpan(px, py, n, f);
    }
  };
}

template <typename F>
ElementwiseStep::Fn Binary(DType t, F f) {
  return t == DType::kUint8 ? BinaryLoop<uint8_t>(f) : BinaryLoop<int8_t>(f);
}
template <typename F>
ElementwiseStep::Fn Unary(DType t, F f) {
  return t == DType::kUint8 ? UnaryLoop<uint8_t>(f) : UnaryLoop<int8_t>(f);
}

// The three (scale, zero point) pairs of a binary node, all of one storage type.
absl::StatusOr<std::array<TensorQuant, 3>> ReadBinaryQuant(const ir::Node& node,
                                                           const ir::Graph& graph) {
  std::array<TensorQuant, 3> q;
  constexpr size_t kScaleInput[3] = {1, 4, 6};
  for (int i = 0; i < 3; ++i) {
    auto read = ReadTensorQuant(node, graph, kScaleInput[i]);
    if (!read.ok()) return read.status();
    q[i] = *read;
  }
  if (q[0].dtype != q[2].dtype || q[1].dtype != q[2].dtype) {
    return absl::UnimplementedError("inputs and output must share one storage type");
  }
  return q;
}

absl::Status OutOfRange(const char* op, const std::string& why) {
  return absl::UnimplementedError(
      absl::StrCat(op, ": ", why, " (outside what TFLite's kernel accepts)"));
}

absl::StatusOr<BuiltKernel> BuildTfliteAdd(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadBinaryQuant(node, graph);
  if (!q.ok()) return q.status();
  const auto [a, b, y] = *q;
  const auto [lo, hi] = ActivationBounds(node);
  const bool subtract = node.GetInt("subtract", 0) != 0;
  auto p = tfl::MakeAddParams(a.scale, a.zero_point, b.scale, b.zero_point, y.scale, y.zero_point,
                              subtract,
                              tfl::XnnpackOutputRange(lo, hi, y.scale, y.zero_point,
                                                      StorageMin(y.dtype), StorageMax(y.dtype)));
  if (!p) return OutOfRange("TfliteAdd", "input/output scale ratios");
  const tfl::AddParams params = *p;
  auto fn = Binary(y.dtype, [params](int32_t va, int32_t vb) { return tfl::Add(params, va, vb); });
  return BuiltKernel{std::make_unique<ElementwiseKernel>(2, y.dtype, fn, subtract ? "SUB" : "ADD"),
                     {node.Input(0), node.Input(3)}};
}

absl::StatusOr<BuiltKernel> BuildTfliteMul(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadBinaryQuant(node, graph);
  if (!q.ok()) return q.status();
  const auto [a, b, y] = *q;
  const auto [lo, hi] = ActivationBounds(node);
  auto p = tfl::MakeMulParams(a.scale, a.zero_point, b.scale, b.zero_point, y.scale, y.zero_point,
                              tfl::XnnpackOutputRange(lo, hi, y.scale, y.zero_point,
                                                      StorageMin(y.dtype), StorageMax(y.dtype)));
  if (!p) return OutOfRange("TfliteMul", "product scale s_a·s_b/s_y");
  const tfl::MulParams params = *p;
  auto fn = Binary(y.dtype, [params](int32_t va, int32_t vb) { return tfl::Mul(params, va, vb); });
  return BuiltKernel{std::make_unique<ElementwiseKernel>(2, y.dtype, fn, "MUL"),
                     {node.Input(0), node.Input(3)}};
}

absl::StatusOr<std::pair<TensorQuant, TensorQuant>> ReadUnaryQuant(const ir::Node& node,
                                                                   const ir::Graph& graph) {
  auto x = ReadTensorQuant(node, graph, 1);
  if (!x.ok()) return x.status();
  auto y = ReadTensorQuant(node, graph, 3);
  if (!y.ok()) return y.status();
  if (x->dtype != y->dtype) {
    return absl::UnimplementedError("input and output must share one storage type");
  }
  return std::make_pair(*x, *y);
}

absl::StatusOr<BuiltKernel> BuildTfliteRequantize(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadUnaryQuant(node, graph);
  if (!q.ok()) return q.status();
  const auto [x, y] = *q;
  auto p = tfl::MakeRequantizeParams(x.scale, x.zero_point, y.scale, y.zero_point,
                                     tfl::OutputRange{StorageMin(y.dtype), StorageMax(y.dtype)});
  if (!p) return OutOfRange("TfliteRequantize", "scale ratio s_x/s_y");
  const tfl::RequantizeParams params = *p;
  auto fn = Unary(y.dtype, [params](int32_t v) { return tfl::Requantize(params, v); });
  return BuiltKernel{std::make_unique<ElementwiseKernel>(1, y.dtype, fn, "QUANTIZE"),
                     {node.Input(0)}};
}

// ---------------------------------------------------------------------------------------
// Pools over NCHW values stored plain or channels-last.

// Element (n, c, h, w) of an [N, C, H, W] value as stored.
struct Nchw {
  int64_t N, C, H, W;
  bool channels_last;
  int64_t Offset(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return channels_last ? ((n * H + h) * W + w) * C + c : ((n * C + c) * H + h) * W + w;
  }
};

absl::StatusOr<Nchw> Read4d(const ValueDesc& x, DType dtype) {
  if (auto s = CheckDType(x, dtype, "input"); !s.ok()) return s;
  if (x.shape.size() != 4) {
    return absl::UnimplementedError(
        absl::StrCat("pooling of a rank-", x.shape.size(), " tensor (NCHW only)"));
  }
  return Nchw{x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.layout == Layout::kChannelsLast};
}

// y[n,c,oh,ow] = finish(Σ x over the window's in-bounds elements, their count), for windows
// of `kernel` at `stride` from -pad (padding excluded from sum and count). Channels-last
// values accumulate a row of channels at a time, so both layouts read memory in order.
template <typename T, typename Finish>
void WindowSums(const T* in, T* out, const Nchw& x, const Nchw& y, const int64_t kernel[2],
                const int64_t stride[2], const int64_t pad[2], const Finish& finish) {
  auto range = [&](int64_t o, int d, int64_t size) {
    const int64_t start = o * stride[d] - pad[d];
    return std::pair<int64_t, int64_t>{std::max<int64_t>(start, 0),
                                       std::min(start + kernel[d], size)};
  };
  if (x.channels_last) {
    std::vector<int32_t> acc(static_cast<size_t>(x.C));
    for (int64_t n = 0; n < y.N; ++n) {
      for (int64_t oh = 0; oh < y.H; ++oh) {
        const auto [hb, he] = range(oh, 0, x.H);
        for (int64_t ow = 0; ow < y.W; ++ow) {
          const auto [wb, we] = range(ow, 1, x.W);
          std::fill(acc.begin(), acc.end(), 0);
          for (int64_t h = hb; h < he; ++h) {
            for (int64_t w = wb; w < we; ++w) {
              const T* row = in + x.Offset(n, 0, h, w);
              for (int64_t c = 0; c < x.C; ++c) acc[static_cast<size_t>(c)] += row[c];
            }
          }
          const int32_t count = static_cast<int32_t>(std::max<int64_t>((he - hb) * (we - wb), 1));
          T* to = out + y.Offset(n, 0, oh, ow);
          for (int64_t c = 0; c < x.C; ++c) {
            to[c] = static_cast<T>(finish(acc[static_cast<size_t>(c)], count));
          }
        }
      }
    }
    return;
  }
  for (int64_t n = 0; n < y.N; ++n) {
    for (int64_t c = 0; c < y.C; ++c) {
      for (int64_t oh = 0; oh < y.H; ++oh) {
        const auto [hb, he] = range(oh, 0, x.H);
        for (int64_t ow = 0; ow < y.W; ++ow) {
          const auto [wb, we] = range(ow, 1, x.W);
          int32_t acc = 0;
          for (int64_t h = hb; h < he; ++h) {
            const T* row = in + x.Offset(n, c, h, 0);
            for (int64_t w = wb; w < we; ++w) acc += row[w];
          }
          const int32_t count = static_cast<int32_t>(std::max<int64_t>((he - hb) * (we - wb), 1));
          out[y.Offset(n, c, oh, ow)] = static_cast<T>(finish(acc, count));
        }
      }
    }
  }
}

// A pooling step over int8 or uint8 values: WindowSums with `finish`.
template <typename Finish>
std::unique_ptr<Step> WindowSumStep(DType dtype, Nchw x, Nchw y, std::array<int64_t, 2> kernel,
                                    std::array<int64_t, 2> stride, std::array<int64_t, 2> pad,
                                    Finish finish) {
  return std::make_unique<FunctionStep>([=](const StepContext& c) {
    if (dtype == DType::kUint8) {
      WindowSums(static_cast<const uint8_t*>(c.inputs[0]), static_cast<uint8_t*>(c.outputs[0]), x,
                 y, kernel.data(), stride.data(), pad.data(), finish);
    } else {
      WindowSums(static_cast<const int8_t*>(c.inputs[0]), static_cast<int8_t*>(c.outputs[0]), x, y,
                 kernel.data(), stride.data(), pad.data(), finish);
    }
  });
}

class TfliteAveragePoolKernel final : public Kernel {
 public:
  TfliteAveragePoolKernel(WindowAttrs window, DType dtype, tfl::OutputRange range)
      : window_(std::move(window)), dtype_(dtype), range_(range) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    auto x = Read4d(in[0], dtype_);
    if (!x.ok()) return x.status();
    auto w = PlanWindow(window_, {x->H, x->W});
    if (!w.ok()) return w.status();
    const Nchw y{x->N, x->C, w->out[0], w->out[1], x->channels_last};
    const tfl::OutputRange range = range_;
    PlannedStep planned;
    planned.step = WindowSumStep(
        dtype_, *x, y, {w->kernel[0], w->kernel[1]}, {w->strides[0], w->strides[1]},
        {w->pad_l[0], w->pad_l[1]},
        [range](int32_t acc, int32_t count) { return tfl::AveragePool(acc, count, range); });
    planned.outputs = {ValueDesc{dtype_, {y.N, y.C, y.H, y.W}, in[0].layout}};
    return planned;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const WindowAttrs window_;
  const DType dtype_;
  const tfl::OutputRange range_;
};

absl::StatusOr<BuiltKernel> BuildTfliteAveragePool(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadUnaryQuant(node, graph);
  if (!q.ok()) return q.status();
  const auto [x, y] = *q;
  if (x.scale != y.scale || x.zero_point != y.zero_point) {
    return absl::UnimplementedError(
        "TFLite's int8 AVERAGE_POOL_2D needs equal input and output quantization");
  }
  auto window = WindowAttrs::FromNode(node);
  if (!window.ok()) return window.status();
  if (window->rank() != 2) return absl::UnimplementedError("2-D pooling only");
  const auto [lo, hi] = ActivationBounds(node);
  return BuiltKernel{std::make_unique<TfliteAveragePoolKernel>(
                         *std::move(window), y.dtype,
                         tfl::BuiltinOutputRange(lo, hi, y.scale, y.zero_point, StorageMin(y.dtype),
                                                 StorageMax(y.dtype))),
                     {node.Input(0)}};
}

class TfliteMeanKernel final : public Kernel {
 public:
  TfliteMeanKernel(TensorQuant x, TensorQuant y) : x_(x), y_(y) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    auto x = Read4d(in[0], x_.dtype);
    if (!x.ok()) return x.status();
    auto p = tfl::MakeMeanParams(x_.scale, x_.zero_point, y_.scale, y_.zero_point, x->H * x->W,
                                 tfl::OutputRange{StorageMin(y_.dtype), StorageMax(y_.dtype)});
    if (!p) return OutOfRange("TfliteMean", "scale ratio s_x/s_y or window size");
    const tfl::MeanParams params = *p;
    const Nchw y{x->N, x->C, 1, 1, x->channels_last};
    PlannedStep planned;
    planned.step = WindowSumStep(x_.dtype, *x, y, {x->H, x->W}, {1, 1}, {0, 0},
                                 [params](int32_t sum, int32_t) { return tfl::Mean(params, sum); });
    planned.outputs = {ValueDesc{y_.dtype, {x->N, x->C, 1, 1}, in[0].layout}};
    return planned;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const TensorQuant x_, y_;
};

absl::StatusOr<BuiltKernel> BuildTfliteMean(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadUnaryQuant(node, graph);
  if (!q.ok()) return q.status();
  return BuiltKernel{std::make_unique<TfliteMeanKernel>(q->first, q->second), {node.Input(0)}};
}

// MEAN of stored values over `axes` (sorted, non-negative once planned against the rank).
class TfliteStoredMeanKernel final : public Kernel {
 public:
  TfliteStoredMeanKernel(DType dtype, std::vector<int64_t> axes, bool keepdims)
      : dtype_(dtype), axes_(std::move(axes)), keepdims_(keepdims) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (auto s = CheckDType(in[0], dtype_, "x"); !s.ok()) return s;
    const Shape& x = in[0].shape;
    const size_t rank = x.size();
    auto r = PlanReduction(x, axes_, keepdims_, /*all_when_empty=*/false);
    if (!r.ok()) return r.status();
    // Output strides per input dim (0 along reduced dims), so input element i adds into
    // output element Σ coord_d · out_stride_d.
    std::vector<int64_t> out_stride(rank, 0);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      if (!r->reduced[d]) {
        out_stride[d] = stride;
        stride *= x[d];
      }
    }
    const int64_t outputs = stride, n = r->count;
    const DType dtype = dtype_;
    PlannedStep p;
    p.outputs = {ValueDesc{dtype_, r->out}};
    p.step = std::make_unique<FunctionStep>([=](const StepContext& c) {
      std::vector<int64_t> sums(static_cast<size_t>(outputs), 0);
      std::vector<int64_t> coord(rank, 0);
      const int64_t total = NumElements(x);
      int64_t o = 0;  // output index of the current input element
      for (int64_t i = 0; i < total; ++i) {
        sums[static_cast<size_t>(o)] += dtype == DType::kUint8
                                            ? static_cast<const uint8_t*>(c.inputs[0])[i]
                                            : static_cast<const int8_t*>(c.inputs[0])[i];
        // Next coordinate, row-major, updating o incrementally.
        for (size_t d = rank; d-- > 0;) {
          o += out_stride[d];
          if (++coord[d] < x[d]) break;
          o -= out_stride[d] * x[d];
          coord[d] = 0;
        }
      }
      for (int64_t k = 0; k < outputs; ++k) {
        const int32_t v = tfl::StoredMean(sums[static_cast<size_t>(k)], n);
        if (dtype == DType::kUint8) {
          static_cast<uint8_t*>(c.outputs[0])[k] = static_cast<uint8_t>(v);
        } else {
          static_cast<int8_t*>(c.outputs[0])[k] = static_cast<int8_t>(v);
        }
      }
    });
    return p;
  }

 private:
  const DType dtype_;
  const std::vector<int64_t> axes_;
  const bool keepdims_;
};

absl::StatusOr<BuiltKernel> BuildTfliteStoredMean(const ir::Node& node, const ir::Graph& graph) {
  auto q = ReadUnaryQuant(node, graph);
  if (!q.ok()) return q.status();
  const auto [x, y] = *q;
  if (x.scale != y.scale || x.zero_point != y.zero_point) {
    return absl::InvalidArgumentError(
        "TfliteStoredMean needs the input's scale and zero point on its output");
  }
  return BuiltKernel{std::make_unique<TfliteStoredMeanKernel>(x.dtype, node.GetInts("axes"),
                                                              node.GetInt("keepdims", 1) != 0),
                     {node.Input(0)}};
}

}  // namespace

void RegisterTfliteInt8Kernels(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.TfliteAdd"] = BuildTfliteAdd;
  registry["q8.TfliteMul"] = BuildTfliteMul;
  registry["q8.TfliteAveragePool"] = BuildTfliteAveragePool;
  registry["q8.TfliteMean"] = BuildTfliteMean;
  registry["q8.TfliteRequantize"] = BuildTfliteRequantize;
  registry["q8.TfliteStoredMean"] = BuildTfliteStoredMean;
}

}  // namespace q8::engine::dnnl_backend
