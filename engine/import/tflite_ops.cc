// One translator per TFLite builtin op: TFLite tensors → IR nodes the engine already runs.
//
// Quantized ops become QDQ form, which the passes fold into int8 oneDNN kernels:
//
//   x_q ─DQ─┐
//   w_q ─DQ─┼─ Conv ─[Relu | Clip(0,6)]─ Q ─► y_q        ⇒  q8.QConv (fold_qdq_conv.cc)
//   b_i32─DQ┘
//
// Arithmetic: the reference is the standard TFLite interpreter as ../shared/bench/tflite/run.js
// runs it, i.e. with its default XNNPACK delegate, and the engine computes what it computes
// (engine/quant/tflite_arith.h has each formula and how it was established):
//  - CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (oneDNN int8 primitives): the int32 bias
//    added to the accumulator as an integer, y_q = round_half_even(acc · fl(fl(s_x·s_w)/s_y))
//    + z_y with the rounding before the zero point (passes::FoldBias,
//    AppendDstZeroPoint). Exact.
//  - ADD, SUB (fixed point, round half up), MUL, MEAN (float scale, round half to even;
//    over non-spatial axes on the input's own parameters, the stored values averaged and
//    truncated), AVERAGE_POOL_2D (integer average, round half away from zero), int8 → int8
//    QUANTIZE (8-bit multiplier): the importer marks their float ops quant_arithmetic =
//    "tflite" (Translator::MarkTfliteArithmetic) and passes::FoldTfliteInt8 gives them
//    TFLite's integer kernels. Exact.
//  - MAX_POOL_2D, PAD, RESHAPE, TRANSPOSE, CONCATENATION (shared parameters), STRIDED_SLICE:
//    move stored values. Exact.
//  - SOFTMAX, LOGISTIC, TANH: float, rounded half to even once; the interpreter rounds a
//    table of float values. Equal except within float precision of a rounding tie: at most
//    one unit, none seen.
//  - float → int8 QUANTIZE: round_half_even(x · fl(1/s)) + z_y, XNNPACK's, not ONNX's
//    x / s (quant::QuantizeByReciprocal; they round apart near ties). Exact.
//  - UNIDIRECTIONAL_SEQUENCE_LSTM: the recurrence in float with the states rounded to their
//    TFLite grids each step (TFLite: fixed-point gates): within one unit.
// tests/engine/tflite_reference_test.cc checks each model against the interpreter's outputs
// with exactly these tolerances.
//
// Layout: TFLite activations are NHWC; convolutions and pools read the NCHW twin of their
// input (Translator::NchwValue) and write an NCHW twin, so chains of them need no
// Transposes. Ops whose meaning depends on element order (RESHAPE, FULLY_CONNECTED, ...)
// read the TFLite-order value, which is materialised from the twin by one Transpose.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/import/tflite_translator.h"

namespace q8::engine::tflite {
namespace {

namespace fb = ::q8::tflite_fb;
using fb::ActivationFunctionType;
using Act = ActivationFunctionType;

// Builtin codes (public BuiltinOperator values).
enum Code : int {
  kAdd = 0,
  kAveragePool2d = 1,
  kConcatenation = 2,
  kConv2d = 3,
  kDepthwiseConv2d = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2d = 17,
  kMul = 18,
  kReshape = 22,
  kSoftmax = 25,
  kTanh = 28,
  kPad = 34,
  kTranspose = 39,
  kMean = 40,
  kSub = 41,
  kSqueeze = 43,
  kUnidirectionalSequenceLstm = 44,
  kStridedSlice = 45,
  kQuantize = 114,
};

bool SameQuant(const TfTensor& a, const TfTensor& b) {
  if (a.quant.has_value() != b.quant.has_value()) return false;
  if (!a.quant) return a.dtype == b.dtype;
  return a.dtype == b.dtype && a.quant->scales == b.quant->scales &&
         a.quant->zero_points == b.quant->zero_points && a.quant->axis == b.quant->axis;
}

absl::Status Need(Translator& tr, std::initializer_list<int> tensors) {
  for (int t : tensors) {
    if (t < 0) return tr.Invalid("a required input or output is missing");
  }
  return absl::OkStatus();
}

// Explicit [begin, end] padding of one spatial dim for TFLite's SAME / VALID.
// SAME: out = ceil(in / stride); total = max((out - 1)·stride + (k - 1)·dilation + 1 - in, 0),
// the smaller half first (TensorFlow's convention).
std::pair<int64_t, int64_t> Padding(fb::Padding padding, int64_t in, int64_t k, int64_t stride,
                                    int64_t dilation) {
  if (padding == fb::Padding::VALID) return {0, 0};
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
  return {total / 2, total - total / 2};
}

// A 4-D NCHW window op's geometry, checked against the TFLite output shape.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: top, left, bottom, right
};

absl::StatusOr<Window> MakeWindow(Translator& tr, const Shape& x, const Shape& y, int64_t kh,
                                  int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                                  fb::Padding padding, const std::vector<int64_t>& extra) {
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1) {
    return tr.Invalid(
        absl::StrCat("strides ", sh, "x", sw, " / dilations ", dh, "x", dw, " must be positive"));
  }
  const int64_t in_h = x[1] + extra[2] + extra[3], in_w = x[2] + extra[4] + extra[5];
  auto [pt, pb] = Padding(padding, in_h, kh, sh, dh);
  auto [pl, pr] = Padding(padding, in_w, kw, sw, dw);
  Window w{
      {kh, kw}, {sh, sw}, {dh, dw}, {pt + extra[2], pl + extra[4], pb + extra[3], pr + extra[5]}};
  const int64_t oh = (x[1] + w.pads[0] + w.pads[2] - (kh - 1) * dh - 1) / sh + 1;
  const int64_t ow = (x[2] + w.pads[1] + w.pads[3] - (kw - 1) * dw - 1) / sw + 1;
  if (y.size() != 4 || y[1] != oh || y[2] != ow) {
    return tr.Invalid(absl::StrCat("output shape ", ShapeToString(y), " does not match the window ",
                                   "(input ", ShapeToString(x), ", computed ", oh, "x", ow, ")"));
  }
  return w;
}

void SetWindow(ir::Node& n, const Window& w) {
  n.attrs["kernel_shape"] = w.kernel;
  n.attrs["strides"] = w.strides;
  n.attrs["pads"] = w.pads;
}

// The PAD folded into this convolution's input, if any (see TranslatePad).
std::vector<int64_t> TakeFoldedPad(Translator& tr, int& x) {
  auto it = tr.folded_pads().find(x);
  if (it == tr.folded_pads().end()) return std::vector<int64_t>(8, 0);
  x = it->second.input;
  return it->second.pads;
}

// ---------------------------------------------------------------------------------------
// CONV_2D, DEPTHWISE_CONV_2D

absl::Status TranslateConv(Translator& tr, const fb::Operator& op, bool depthwise) {
  int x = Translator::Input(op, 0);
  const int w = Translator::Input(op, 1), b = Translator::Input(op, 2),
            y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, w, y}); !s.ok()) return s;
  fb::Padding padding;
  int64_t sh, sw, dh, dw;
  Act act;
  if (depthwise) {
    const auto* o = op.builtin_options_as_DepthwiseConv2DOptions();
    if (o == nullptr) return tr.Invalid("missing DepthwiseConv2DOptions");
    padding = o->padding(), sh = o->stride_h(), sw = o->stride_w();
    dh = o->dilation_h_factor(), dw = o->dilation_w_factor(), act = o->fused_activation_function();
  } else {
    const auto* o = op.builtin_options_as_Conv2DOptions();
    if (o == nullptr) return tr.Invalid("missing Conv2DOptions");
    padding = o->padding(), sh = o->stride_h(), sw = o->stride_w();
    dh = o->dilation_h_factor(), dw = o->dilation_w_factor(), act = o->fused_activation_function();
  }
  const std::vector<int64_t> extra = TakeFoldedPad(tr, x);
  const TfTensor& X = tr.tensor(x);
  const TfTensor& W = tr.tensor(w);
  const TfTensor& Y = tr.tensor(y);
  if (X.shape.size() != 4 || W.shape.size() != 4 || W.data == nullptr) {
    return tr.Unimplemented(absl::StrCat(
        "needs a 4-D input and constant 4-D filter; got input ", ShapeToString(X.shape),
        ", filter '", W.name, "' ", ShapeToString(W.shape), W.data ? "" : " computed at run time"));
  }
  if (W.dtype != DType::kInt8 && W.dtype != DType::kFloat32) {
    return tr.Unimplemented(absl::StrCat("filter '", W.name, "' is ", DTypeName(W.dtype),
                                         " (supported: int8 with per-channel or per-tensor "
                                         "quantization, float32)"));
  }
  const int64_t C = X.shape[3], KH = W.shape[1], KW = W.shape[2];
  // IR weights [OC, IC/G, KH, KW] from TFLite [OC, KH, KW, IC] (conv) or [1, KH, KW, OC]
  // (depthwise: OC = C·multiplier, group = C).
  int64_t OC, ICG, groups;
  if (depthwise) {
    OC = W.shape[3], ICG = 1, groups = C;
    if (W.shape[0] != 1 || C == 0 || OC % C != 0) {
      return tr.Invalid(absl::StrCat("depthwise filter ", ShapeToString(W.shape),
                                     " does not fit input channels ", C));
    }
  } else {
    OC = W.shape[0], ICG = W.shape[3];
    if (ICG == 0 || C % ICG != 0 || OC % (C / ICG) != 0) {
      return tr.Invalid(
          absl::StrCat("filter ", ShapeToString(W.shape), " does not fit input channels ", C));
    }
    groups = C / ICG;
  }
  if (W.quant && W.quant->axis && *W.quant->axis != (depthwise ? 3 : 0)) {
    return tr.Unimplemented(absl::StrCat("filter '", W.name, "' is quantized along axis ",
                                         *W.quant->axis,
                                         "; per-channel scales must run along the "
                                         "output channels (axis ",
                                         depthwise ? 3 : 0, ")"));
  }
  const size_t width = DTypeSize(W.dtype);
  Tensor oihw(W.dtype, {OC, ICG, KH, KW});
  auto* dst = static_cast<uint8_t*>(oihw.data());
  for (int64_t o = 0; o < OC; ++o) {
    for (int64_t i = 0; i < ICG; ++i) {
      for (int64_t h = 0; h < KH; ++h) {
        for (int64_t v = 0; v < KW; ++v) {
          const int64_t from =
              depthwise ? (h * KW + v) * OC + o : ((o * KH + h) * KW + v) * ICG + i;
          const int64_t to = ((o * ICG + i) * KH + h) * KW + v;
          std::memcpy(dst + to * width, W.data + from * width, width);
        }
      }
    }
  }
  auto window = MakeWindow(tr, X.shape, Y.shape, KH, KW, sh, sw, dh, dw, padding, extra);
  if (!window.ok()) return window.status();
  if (Y.shape[3] != OC) {
    return tr.Invalid(absl::StrCat("output ", ShapeToString(Y.shape), " has ", Y.shape[3],
                                   " channels, the filter ", OC));
  }

  const std::string w_value = tr.Constant(absl::StrCat(W.name, ":oihw"), std::move(oihw));
  auto w_real =
      tr.Real(w_value, w, W.quant && W.quant->axis ? std::optional<int>(0) : std::nullopt);
  auto x_real = tr.RealNchw(x);
  if (!w_real.ok()) return w_real.status();
  if (!x_real.ok()) return x_real.status();
  std::vector<std::string> inputs{*x_real, *w_real};
  if (b >= 0) {
    auto bias = tr.RealValue(b);
    if (!bias.ok()) return bias.status();
    inputs.push_back(*bias);
  }
  const std::string out = tr.FloatOutput(y, act, true);
  ir::Node& n = tr.Emit("Conv", std::move(inputs), {out});
  SetWindow(n, *window);
  n.attrs["dilations"] = window->dilations;
  n.attrs["group"] = groups;
  return tr.FinishOutput(y, out, act, true);
}

absl::Status TranslateConv2d(Translator& tr, const fb::Operator& op) {
  return TranslateConv(tr, op, false);
}
absl::Status TranslateDepthwiseConv2d(Translator& tr, const fb::Operator& op) {
  return TranslateConv(tr, op, true);
}

// PAD: folded into the convolution that is its only reader (TFLite pads int8 tensors with
// the zero point, i.e. real 0, which is what a convolution's own padding adds), else a
// q8.Pad of the stored values.
absl::Status TranslatePad(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), p = Translator::Input(op, 1),
            y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, p, y}); !s.ok()) return s;
  auto pads = tr.ConstInts(p);
  if (!pads.ok()) return pads.status();
  const TfTensor& X = tr.tensor(x);
  const TfTensor& Y = tr.tensor(y);
  const size_t rank = X.shape.size();
  if (pads->size() != 2 * rank) {
    return tr.Invalid(absl::StrCat("paddings have ", pads->size(), " values; the input ",
                                   ShapeToString(X.shape), " needs ", 2 * rank));
  }
  for (size_t d = 0; d < rank; ++d) {
    if ((*pads)[2 * d] < 0 || (*pads)[2 * d + 1] < 0 ||
        X.shape[d] + (*pads)[2 * d] + (*pads)[2 * d + 1] !=
            (d < Y.shape.size() ? Y.shape[d] : -1)) {
      return tr.Invalid(absl::StrCat("paddings do not take ", ShapeToString(X.shape), " to ",
                                     ShapeToString(Y.shape)));
    }
  }
  const auto& readers = tr.readers()[static_cast<size_t>(y)];
  if (rank == 4 && readers.size() == 1 && readers[0].second == 0 &&
      !tr.is_graph_output()[static_cast<size_t>(y)] && SameQuant(X, Y) && (*pads)[0] == 0 &&
      (*pads)[1] == 0 && (*pads)[6] == 0 && (*pads)[7] == 0) {
    const int code = tr.op_codes()[static_cast<size_t>(readers[0].first)];
    if (code == kConv2d || code == kDepthwiseConv2d) {
      tr.folded_pads()[y] = Translator::FoldedPad{x, *pads};
      return absl::OkStatus();
    }
  }
  if (!SameQuant(X, Y)) return tr.Unimplemented("PAD whose output is quantized differently");
  auto v = tr.Value(x);
  if (!v.ok()) return v.status();
  // The pad value is real 0: the zero point of a quantized tensor.
  Tensor fill(X.dtype, {});
  const int64_t zp = X.quant ? X.quant->zero_points[0] : 0;
  switch (X.dtype) {
    case DType::kInt8:
      *fill.data_as<int8_t>() = static_cast<int8_t>(zp);
      break;
    case DType::kUint8:
      *fill.data_as<uint8_t>() = static_cast<uint8_t>(zp);
      break;
    case DType::kFloat32:
    case DType::kInt32:
    case DType::kInt64:
    case DType::kBool:
      break;
    default:
      return tr.Unimplemented("PAD of this type");
  }
  std::vector<int64_t> onnx_pads(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    onnx_pads[d] = (*pads)[2 * d];
    onnx_pads[rank + d] = (*pads)[2 * d + 1];
  }
  TfTensor& T = tr.tensor(y);
  T.value = tr.Fresh(T.name);
  tr.Emit("Pad", {*v, tr.Constant(absl::StrCat(T.name, ":pad_value"), std::move(fill))}, {T.value},
          "q8")
      .attrs["pads"] = onnx_pads;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// FULLY_CONNECTED: y[M,N] = x[M,K] · wᵀ + b, x flattened in TFLite (NHWC) element order.

absl::Status TranslateFullyConnected(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), w = Translator::Input(op, 1),
            b = Translator::Input(op, 2), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, w, y}); !s.ok()) return s;
  const auto* o = op.builtin_options_as_FullyConnectedOptions();
  const Act act = o ? o->fused_activation_function() : Act::NONE;
  if (o && o->weights_format() != fb::FullyConnectedOptionsWeightsFormat::DEFAULT) {
    return tr.Unimplemented("shuffled FULLY_CONNECTED weights");
  }
  const TfTensor& X = tr.tensor(x);
  const TfTensor& W = tr.tensor(w);
  if (W.shape.size() != 2 || W.data == nullptr) {
    return tr.Unimplemented(absl::StrCat("weights '", W.name, "' must be a constant 2-D tensor"));
  }
  if (W.quant && W.quant->axis && *W.quant->axis != 0) {
    return tr.Unimplemented("per-channel weights must run along the output axis 0");
  }
  const int64_t N = W.shape[0], K = W.shape[1];
  const int64_t total = NumElements(X.shape);
  if (K == 0 || total % K != 0) {
    return tr.Invalid(
        absl::StrCat("input ", ShapeToString(X.shape), " does not flatten to rows of ", K));
  }
  const int64_t M = total / K;
  auto xv = tr.Value(x);
  if (!xv.ok()) return xv.status();
  std::string x2 = *xv;
  if (X.shape != Shape{M, K}) {
    x2 = tr.Fresh(absl::StrCat(X.name, ":2d"));
    tr.Emit("Reshape", {*xv, tr.Int64Constant(absl::StrCat(X.name, ":2d_shape"), {M, K})}, {x2});
  }
  auto x_real = tr.Real(x2, x);
  auto wv = tr.Value(w);
  if (!x_real.ok()) return x_real.status();
  if (!wv.ok()) return wv.status();
  auto w_real = tr.Real(*wv, w);
  if (!w_real.ok()) return w_real.status();
  std::vector<std::string> inputs{*x_real, *w_real};
  if (b >= 0) {
    auto bias = tr.RealValue(b);
    if (!bias.ok()) return bias.status();
    inputs.push_back(*bias);
  }
  TfTensor& Y = tr.tensor(y);
  const std::string out = tr.FloatOutput(y, act, false);
  tr.Emit("Gemm", std::move(inputs), {out}).attrs["transB"] = int64_t{1};
  if (auto s = tr.FinishOutput(y, out, act, false); !s.ok()) return s;
  if (Y.shape != Shape{M, N}) {
    if (NumElements(Y.shape) != M * N) {
      return tr.Invalid(absl::StrCat("output ", ShapeToString(Y.shape), " is not ", M, "x", N));
    }
    const std::string shaped = tr.Fresh(absl::StrCat(Y.name, ":shaped"));
    tr.Emit("Reshape", {Y.value, tr.Int64Constant(absl::StrCat(Y.name, ":shape"), Y.shape)},
            {shaped});
    Y.value = shaped;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Element-wise

// Runs on NCHW twins when every operand is a 4-D tensor that has one.
bool UseNchw(Translator& tr, std::initializer_list<int> operands, int y) {
  if (tr.tensor(y).shape.size() != 4) return false;
  for (int t : operands) {
    if (tr.tensor(t).shape.size() != 4 || !tr.HasNchw(t)) return false;
  }
  return true;
}

absl::Status TranslateBinary(Translator& tr, const fb::Operator& op, const char* onnx_op, Act act) {
  const int a = Translator::Input(op, 0), b = Translator::Input(op, 1),
            y = Translator::Output(op, 0);
  if (auto s = Need(tr, {a, b, y}); !s.ok()) return s;
  const bool nchw = UseNchw(tr, {a, b}, y);
  auto ra = nchw ? tr.RealNchw(a) : tr.RealValue(a);
  auto rb = nchw ? tr.RealNchw(b) : tr.RealValue(b);
  if (!ra.ok()) return ra.status();
  if (!rb.ok()) return rb.status();
  const std::string out = tr.FloatOutput(y, act, nchw);
  Translator::MarkTfliteArithmetic(tr.Emit(onnx_op, {*ra, *rb}, {out}));
  return tr.FinishOutput(y, out, act, nchw);
}

absl::Status TranslateAdd(Translator& tr, const fb::Operator& op) {
  const auto* o = op.builtin_options_as_AddOptions();
  return TranslateBinary(tr, op, "Add", o ? o->fused_activation_function() : Act::NONE);
}
absl::Status TranslateSub(Translator& tr, const fb::Operator& op) {
  const auto* o = op.builtin_options_as_SubOptions();
  return TranslateBinary(tr, op, "Sub", o ? o->fused_activation_function() : Act::NONE);
}
absl::Status TranslateMul(Translator& tr, const fb::Operator& op) {
  const auto* o = op.builtin_options_as_MulOptions();
  return TranslateBinary(tr, op, "Mul", o ? o->fused_activation_function() : Act::NONE);
}

// Unary ops that keep the element order: applied in whichever layout the input has.
absl::Status TranslateUnary(Translator& tr, const fb::Operator& op, const char* onnx_op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  const bool nchw = UseNchw(tr, {x}, y) && tr.tensor(x).value.empty();
  auto rx = nchw ? tr.RealNchw(x) : tr.RealValue(x);
  if (!rx.ok()) return rx.status();
  const std::string out = tr.FloatOutput(y, Act::NONE, nchw);
  if (onnx_op != nullptr) {
    tr.Emit(onnx_op, {*rx}, {out});
  } else {
    // QUANTIZE: int8 → int8 requantizes with TFLite's own arithmetic; float → int8 is the
    // QuantizeLinear alone, computing x · fl(1/s) as the interpreter does
    // (quant::QuantizeByReciprocal).
    ir::Node& n = tr.Emit("Identity", {*rx}, {out});
    if (tr.tensor(x).quant) Translator::MarkTfliteArithmetic(n);
    if (!tr.tensor(x).quant && tr.tensor(y).quant) {
      if (auto s = tr.FinishOutput(y, out, Act::NONE, nchw); !s.ok()) return s;
      ir::Node& q = tr.graph().nodes.back();
      if (q.op_type != "QuantizeLinear") return tr.Invalid("QUANTIZE: no QuantizeLinear emitted");
      q.attrs["scale_reciprocal"] = int64_t{1};
      return absl::OkStatus();
    }
  }
  return tr.FinishOutput(y, out, Act::NONE, nchw);
}

absl::Status TranslateLogistic(Translator& tr, const fb::Operator& op) {
  return TranslateUnary(tr, op, "Sigmoid");
}
absl::Status TranslateTanh(Translator& tr, const fb::Operator& op) {
  return TranslateUnary(tr, op, "Tanh");
}
// QUANTIZE (float → int8, or int8 → int8 with new parameters) and DEQUANTIZE: the DQ of the
// input and the Q of the output are the whole op.
absl::Status TranslateQuantize(Translator& tr, const fb::Operator& op) {
  return TranslateUnary(tr, op, nullptr);
}

absl::Status TranslateDequantize(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  const TfTensor& X = tr.tensor(x);
  if (!X.quant || tr.tensor(y).dtype != DType::kFloat32) {
    return tr.Unimplemented("DEQUANTIZE needs a quantized input and a float32 output");
  }
  auto xv = tr.Value(x);
  if (!xv.ok()) return xv.status();
  TfTensor& Y = tr.tensor(y);
  Y.value = tr.Fresh(Y.name);
  // A DequantizeLinear written under the output's own name.
  auto real = tr.Real(*xv, x);
  if (!real.ok()) return real.status();
  tr.Emit("Identity", {*real}, {Y.value});
  return absl::OkStatus();
}

absl::Status TranslateSoftmax(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  const auto* o = op.builtin_options_as_SoftmaxOptions();
  const float beta = o ? o->beta() : 1.f;
  // Softmax runs over TFLite's last axis, which is C: axis 1 of an NCHW twin.
  const bool nchw = UseNchw(tr, {x}, y) && tr.tensor(x).value.empty();
  auto rx = nchw ? tr.RealNchw(x) : tr.RealValue(x);
  if (!rx.ok()) return rx.status();
  std::string in = *rx;
  if (beta != 1.f) {
    in = tr.Fresh(absl::StrCat(*rx, ":beta"));
    tr.Emit("Mul", {*rx, tr.FloatConstant(absl::StrCat(tr.tensor(x).name, ":beta"), {beta})}, {in});
  }
  const std::string out = tr.FloatOutput(y, Act::NONE, nchw);
  tr.Emit("Softmax", {in}, {out}).attrs["axis"] = int64_t{nchw ? 1 : -1};
  return tr.FinishOutput(y, out, Act::NONE, nchw);
}

// ---------------------------------------------------------------------------------------
// Pools and MEAN (NCHW)

absl::Status TranslatePool(Translator& tr, const fb::Operator& op, const char* onnx_op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  const auto* o = op.builtin_options_as_Pool2DOptions();
  if (o == nullptr) return tr.Invalid("missing Pool2DOptions");
  const TfTensor& X = tr.tensor(x);
  if (X.shape.size() != 4) return tr.Invalid("needs a 4-D input");
  auto window =
      MakeWindow(tr, X.shape, tr.tensor(y).shape, o->filter_height(), o->filter_width(),
                 o->stride_h(), o->stride_w(), 1, 1, o->padding(), std::vector<int64_t>(8, 0));
  if (!window.ok()) return window.status();
  auto rx = tr.RealNchw(x);
  if (!rx.ok()) return rx.status();
  const Act act = o->fused_activation_function();
  const std::string out = tr.FloatOutput(y, act, true);
  // TFLite's average excludes padding: ONNX count_include_pad = 0 (the default).
  ir::Node& n = tr.Emit(onnx_op, {*rx}, {out});
  SetWindow(n, *window);
  Translator::MarkTfliteArithmetic(n);
  return tr.FinishOutput(y, out, act, true);
}

absl::Status TranslateAveragePool(Translator& tr, const fb::Operator& op) {
  return TranslatePool(tr, op, "AveragePool");
}
absl::Status TranslateMaxPool(Translator& tr, const fb::Operator& op) {
  return TranslatePool(tr, op, "MaxPool");
}

absl::Status TranslateMean(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), a = Translator::Input(op, 1),
            y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, a, y}); !s.ok()) return s;
  // An axes tensor of no elements has no buffer data: no axes, which TFLite reads as
  // "reduce nothing".
  const bool no_axes = NumElements(tr.tensor(a).shape) == 0;
  auto axes = no_axes ? absl::StatusOr<std::vector<int64_t>>(std::vector<int64_t>{})
                      : tr.ConstInts(a);
  if (!axes.ok()) return axes.status();
  const TfTensor& X = tr.tensor(x);
  const int64_t rank = static_cast<int64_t>(X.shape.size());
  std::vector<int64_t> sorted;
  for (int64_t v : *axes) sorted.push_back(v < 0 ? v + rank : v);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (int64_t a : sorted) {
    if (a < 0 || a >= rank) {
      return tr.Invalid(absl::StrCat("MEAN axis out of range: [", absl::StrJoin(*axes, ","),
                                     "] of ", ShapeToString(X.shape)));
    }
  }
  const auto* o = op.builtin_options_as_ReducerOptions();
  const bool keep_dims = o && o->keep_dims();
  if (rank != 4 || sorted != std::vector<int64_t>{1, 2}) {
    // Other axes: in TFLite order, as ReduceMean between the input's DequantizeLinear and
    // the output's QuantizeLinear; on the input's own parameters the chain becomes TFLite's
    // stored-value mean (passes/fold_tflite_int8.cc).
    auto rx = tr.RealValue(x);
    if (!rx.ok()) return rx.status();
    const std::string out = tr.FloatOutput(y, Act::NONE, false);
    ir::Node& n = tr.Emit("ReduceMean", {*rx}, {out});
    n.attrs["axes"] = sorted;
    n.attrs["keepdims"] = int64_t{keep_dims ? 1 : 0};
    n.attrs["noop_with_empty_axes"] = int64_t{1};  // ONNX's empty axes mean all of them
    Translator::MarkTfliteArithmetic(n);
    return tr.FinishOutput(y, out, Act::NONE, false);
  }
  auto rx = tr.RealNchw(x);
  if (!rx.ok()) return rx.status();
  const std::string out = tr.FloatOutput(y, Act::NONE, true);
  Translator::MarkTfliteArithmetic(tr.Emit("GlobalAveragePool", {*rx}, {out}));
  if (auto s = tr.FinishOutput(y, out, Act::NONE, true); !s.ok()) return s;
  if (!keep_dims) {  // [N,C,1,1] holds [N,C] in the same order
    TfTensor& Y = tr.tensor(y);
    Y.value = tr.Fresh(Y.name);
    tr.Emit("Reshape", {Y.nchw_value, tr.Int64Constant(absl::StrCat(Y.name, ":shape"), Y.shape)},
            {Y.value});
    Y.nchw_value.clear();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Data movement: on the stored (quantized) values, since input and output share their
// parameters. At a graph input or output the move runs between a DequantizeLinear and a
// QuantizeLinear instead, so the boundary tensor shows its quantization (the engine's passes
// hoist the Q, leaving an exact DQ→Q round trip on the boundary).

absl::Status MoveWith(Translator& tr, int x, int y, const std::string& op_type,
                      std::vector<std::string> extra_inputs,
                      std::map<std::string, ir::Attribute> attrs,
                      const std::string* x_value = nullptr) {
  const TfTensor& X = tr.tensor(x);
  TfTensor& Y = tr.tensor(y);
  std::string in;
  if (x_value) {
    in = *x_value;
  } else {
    auto v = tr.Value(x);
    if (!v.ok()) return v.status();
    in = *v;
  }
  const bool boundary =
      X.quant && (tr.graph().inputs.end() !=
                      std::find_if(tr.graph().inputs.begin(), tr.graph().inputs.end(),
                                   [&](const ir::ValueInfo& vi) { return vi.name == in; }) ||
                  tr.is_graph_output()[static_cast<size_t>(y)]);
  if (!SameQuant(X, Y) || boundary) {
    auto real = tr.Real(in, x);
    if (!real.ok()) return real.status();
    const std::string out = tr.FloatOutput(y, Act::NONE, false);
    std::vector<std::string> inputs{*real};
    inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
    tr.Emit(op_type, std::move(inputs), {out}).attrs = std::move(attrs);
    return tr.FinishOutput(y, out, Act::NONE, false);
  }
  Y.value = tr.Fresh(Y.name);
  std::vector<std::string> inputs{in};
  inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
  tr.Emit(op_type, std::move(inputs), {Y.value}).attrs = std::move(attrs);
  return absl::OkStatus();
}

// RESHAPE and SQUEEZE: to the output tensor's static shape.
absl::Status TranslateReshape(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  const TfTensor& Y = tr.tensor(y);
  if (NumElements(Y.shape) != NumElements(tr.tensor(x).shape)) {
    return tr.Invalid(absl::StrCat("cannot reshape ", ShapeToString(tr.tensor(x).shape), " to ",
                                   ShapeToString(Y.shape)));
  }
  return MoveWith(tr, x, y, "Reshape", {tr.Int64Constant(absl::StrCat(Y.name, ":shape"), Y.shape)},
                  {});
}

absl::Status TranslateTranspose(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), p = Translator::Input(op, 1),
            y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, p, y}); !s.ok()) return s;
  auto perm = tr.ConstInts(p);
  if (!perm.ok()) return perm.status();
  const TfTensor& X = tr.tensor(x);
  std::vector<int64_t> sorted = *perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(X.shape.size());
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota) {
    return tr.Invalid(absl::StrCat("perm [", absl::StrJoin(*perm, ","),
                                   "] is not a permutation of ", X.shape.size(), " axes"));
  }
  TfTensor& Y = tr.tensor(y);
  // NCHW → NHWC (PyTorch exports start so): the output's NCHW twin is the input itself.
  if (*perm == std::vector<int64_t>{0, 2, 3, 1} && SameQuant(X, Y) &&
      !tr.is_graph_output()[static_cast<size_t>(y)]) {
    auto v = tr.Value(x);
    if (!v.ok()) return v.status();
    Y.nchw_value = *v;
    return absl::OkStatus();
  }
  // NHWC → NCHW: the output is the input's twin.
  if (*perm == std::vector<int64_t>{0, 3, 1, 2} && SameQuant(X, Y) &&
      !tr.is_graph_output()[static_cast<size_t>(y)]) {
    auto v = tr.NchwValue(x);
    if (!v.ok()) return v.status();
    Y.value = *v;
    return absl::OkStatus();
  }
  return MoveWith(tr, x, y, "Transpose", {}, {{"perm", *perm}});
}

absl::Status TranslateConcatenation(Translator& tr, const fb::Operator& op) {
  const auto* o = op.builtin_options_as_ConcatenationOptions();
  const int y = Translator::Output(op, 0);
  if (auto s = Need(tr, {y}); !s.ok()) return s;
  const int64_t rank = static_cast<int64_t>(tr.tensor(y).shape.size());
  int64_t axis = o ? o->axis() : 0;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return tr.Invalid(absl::StrCat("axis ", axis, " for rank ", rank));
  std::vector<int> xs;
  for (size_t i = 0; op.inputs() && i < op.inputs()->size(); ++i) {
    xs.push_back(Translator::Input(op, i));
    if (xs.back() < 0) return tr.Invalid("an input is missing");
  }
  bool nchw = rank == 4;
  for (int x : xs) nchw = nchw && tr.tensor(x).shape.size() == 4 && tr.HasNchw(x);
  std::vector<std::string> inputs;
  for (int x : xs) {
    // Inputs with their own parameters are requantized through float.
    auto r = nchw ? tr.RealNchw(x) : tr.RealValue(x);
    if (!r.ok()) return r.status();
    inputs.push_back(*r);
  }
  static constexpr int64_t kNhwcToNchwAxis[] = {0, 2, 3, 1};
  const Act act = o ? o->fused_activation_function() : Act::NONE;
  const std::string out = tr.FloatOutput(y, act, nchw);
  tr.Emit("Concat", std::move(inputs), {out}).attrs["axis"] = nchw ? kNhwcToNchwAxis[axis] : axis;
  return tr.FinishOutput(y, out, act, nchw);
}

// STRIDED_SLICE with constant begin/end/strides: a q8.StridedSlice over normalised
// [start, stop) ranges with positive or negative steps, then a reshape that drops the
// shrunk axes.
absl::Status TranslateStridedSlice(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y, Translator::Input(op, 1), Translator::Input(op, 2)}); !s.ok())
    return s;
  auto begin = tr.ConstInts(Translator::Input(op, 1));
  auto end = tr.ConstInts(Translator::Input(op, 2));
  if (!begin.ok()) return begin.status();
  if (!end.ok()) return end.status();
  std::vector<int64_t> strides(begin->size(), 1);
  if (Translator::Input(op, 3) >= 0) {
    auto s = tr.ConstInts(Translator::Input(op, 3));
    if (!s.ok()) return s.status();
    strides = *s;
  }
  const auto* o = op.builtin_options_as_StridedSliceOptions();
  const int begin_mask = o ? o->begin_mask() : 0, end_mask = o ? o->end_mask() : 0;
  const int shrink = o ? o->shrink_axis_mask() : 0;
  if (o && (o->ellipsis_mask() || o->new_axis_mask() || o->offset())) {
    return tr.Unimplemented("STRIDED_SLICE with ellipsis_mask, new_axis_mask or offset");
  }
  const Shape& xs = tr.tensor(x).shape;
  const size_t rank = xs.size();
  if (begin->size() != rank || end->size() != rank || strides.size() != rank) {
    return tr.Unimplemented("STRIDED_SLICE whose begin/end/strides do not cover every axis");
  }
  std::vector<int64_t> starts(rank), steps(rank), sizes(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t n = xs[d], st = strides[d];
    if (st == 0) return tr.Invalid("a stride of 0");
    auto clamp = [&](int64_t v, bool is_begin, bool masked) {
      if (masked) return is_begin ? (st > 0 ? int64_t{0} : n - 1) : (st > 0 ? n : int64_t{-1});
      if (v < 0) v += n;
      return st > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    int64_t b = clamp((*begin)[d], true, begin_mask & (1 << d));
    int64_t e = clamp((*end)[d], false, end_mask & (1 << d));
    if (shrink & (1 << d)) {
      b = (*begin)[d] < 0 ? (*begin)[d] + n : (*begin)[d];
      if (b < 0 || b >= n) return tr.Invalid("shrunk index out of range");
      e = b + 1;
    }
    const int64_t count = st > 0 ? std::max<int64_t>(0, (e - b + st - 1) / st)
                                 : std::max<int64_t>(0, (b - e - st - 1) / -st);
    starts[d] = b, steps[d] = (shrink & (1 << d)) ? 1 : st, sizes[d] = count;
  }
  if (NumElements(sizes) != NumElements(tr.tensor(y).shape)) {
    return tr.Invalid(absl::StrCat("slice of ", ShapeToString(xs), " has shape ",
                                   ShapeToString(sizes), ", output is ",
                                   ShapeToString(tr.tensor(y).shape)));
  }
  auto v = tr.Value(x);
  if (!v.ok()) return v.status();
  const std::string sliced = tr.Fresh(absl::StrCat(tr.tensor(y).name, ":slice"));
  ir::Node& n = tr.Emit("StridedSlice", {*v}, {sliced}, "q8");
  n.attrs["starts"] = starts;
  n.attrs["steps"] = steps;
  n.attrs["sizes"] = sizes;
  const TfTensor& Y = tr.tensor(y);
  return MoveWith(tr, x, y, "Reshape", {tr.Int64Constant(absl::StrCat(Y.name, ":shape"), Y.shape)},
                  {}, &sliced);
}

// ---------------------------------------------------------------------------------------
// UNIDIRECTIONAL_SEQUENCE_LSTM (kernels/sequence_lstm_kernel.cc): weights dequantized
// here; the recurrence runs in float, with the hidden and cell states rounded to their
// TFLite storage grids after every step, as the integer kernel stores them.

absl::Status TranslateLstm(Translator& tr, const fb::Operator& op) {
  const int x = Translator::Input(op, 0), y = Translator::Output(op, 0);
  if (auto s = Need(tr, {x, y}); !s.ok()) return s;
  for (size_t i : {9, 10, 11, 16, 17, 20, 21, 22, 23}) {
    if (Translator::Input(op, i) >= 0) {
      return tr.Unimplemented(absl::StrCat("LSTM input ", i, " is set: peephole, projection and ",
                                           "layer-norm LSTMs are not supported"));
    }
  }
  const auto* o = op.builtin_options_as_UnidirectionalSequenceLSTMOptions();
  const Act act = o ? o->fused_activation_function() : Act::TANH;
  if (act != Act::TANH) return tr.Unimplemented("LSTM activation other than TANH");
  std::vector<std::string> inputs;
  auto rx = tr.RealValue(x);
  if (!rx.ok()) return rx.status();
  inputs.push_back(*rx);
  // 1-4 input weights (i, f, c, o), 5-8 recurrent weights, 12-15 biases; i may be absent
  // (coupled input-forget gate).
  for (size_t i : {1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15}) {
    const int t = Translator::Input(op, i);
    if (t < 0) {
      if (i == 1 || i == 5 || i == 12) {
        inputs.push_back("");
        continue;
      }
      return tr.Invalid(absl::StrCat("LSTM input ", i, " is missing"));
    }
    auto values = tr.DequantizedConstant(t);
    if (!values.ok()) return values.status();
    Tensor c(DType::kFloat32, tr.tensor(t).shape);
    std::copy(values->begin(), values->end(), c.data_as<float>());
    inputs.push_back(tr.Constant(absl::StrCat(tr.tensor(t).name, ":float"), std::move(c)));
  }
  const std::string out = tr.FloatOutput(y, Act::NONE, false);
  ir::Node& n = tr.Emit("SequenceLstm", std::move(inputs), {out}, "q8");
  n.attrs["time_major"] = int64_t{o && o->time_major() ? 1 : 0};
  n.attrs["cell_clip"] = o ? o->cell_clip() : 0.f;
  // State grids: h as its (int8) output_state tensor, c as its (int16) cell_state tensor.
  const int h_state = Translator::Input(op, 18), c_state = Translator::Input(op, 19);
  if (h_state >= 0 && tr.tensor(h_state).quant) {
    const TfTensor& H = tr.tensor(h_state);
    n.attrs["h_scale"] = H.quant->scales[0];
    n.attrs["h_zero_point"] = H.quant->zero_points[0];
    n.attrs["h_min"] = int64_t{H.dtype == DType::kUint8 ? 0 : -128};
    n.attrs["h_max"] = int64_t{H.dtype == DType::kUint8 ? 255 : 127};
  }
  if (c_state >= 0 && tr.tensor(c_state).quant && tr.tensor(c_state).int16) {
    n.attrs["c_scale"] = tr.tensor(c_state).quant->scales[0];
  }
  return tr.FinishOutput(y, out, Act::NONE, false);
}

}  // namespace

const std::map<int, BuiltinOp>& BuiltinOps() {
  static const auto* ops = new std::map<int, BuiltinOp>{
      {kAdd, {"ADD", TranslateAdd}},
      {kAveragePool2d, {"AVERAGE_POOL_2D", TranslateAveragePool}},
      {kConcatenation, {"CONCATENATION", TranslateConcatenation}},
      {kConv2d, {"CONV_2D", TranslateConv2d}},
      {kDepthwiseConv2d, {"DEPTHWISE_CONV_2D", TranslateDepthwiseConv2d}},
      {kDequantize, {"DEQUANTIZE", TranslateDequantize}},
      {kFullyConnected, {"FULLY_CONNECTED", TranslateFullyConnected}},
      {kLogistic, {"LOGISTIC", TranslateLogistic}},
      {kMaxPool2d, {"MAX_POOL_2D", TranslateMaxPool}},
      {kMul, {"MUL", TranslateMul}},
      {kReshape, {"RESHAPE", TranslateReshape}},
      {kSoftmax, {"SOFTMAX", TranslateSoftmax}},
      {kTanh, {"TANH", TranslateTanh}},
      {kPad, {"PAD", TranslatePad}},
      {kTranspose, {"TRANSPOSE", TranslateTranspose}},
      {kMean, {"MEAN", TranslateMean}},
      {kSub, {"SUB", TranslateSub}},
      {kSqueeze, {"SQUEEZE", TranslateReshape}},
      {kUnidirectionalSequenceLstm, {"UNIDIRECTIONAL_SEQUENCE_LSTM", TranslateLstm}},
      {kStridedSlice, {"STRIDED_SLICE", TranslateStridedSlice}},
      {kQuantize, {"QUANTIZE", TranslateQuantize}},
  };
  return *ops;
}

std::string BuiltinName(int code) {
  // The public names of the codes below 128 that a model is likely to carry.
  static constexpr const char* kNames[] = {"ADD",
                                           "AVERAGE_POOL_2D",
                                           "CONCATENATION",
                                           "CONV_2D",
                                           "DEPTHWISE_CONV_2D",
                                           "DEPTH_TO_SPACE",
                                           "DEQUANTIZE",
                                           "EMBEDDING_LOOKUP",
                                           "FLOOR",
                                           "FULLY_CONNECTED",
                                           "HASHTABLE_LOOKUP",
                                           "L2_NORMALIZATION",
                                           "L2_POOL_2D",
                                           "LOCAL_RESPONSE_NORMALIZATION",
                                           "LOGISTIC",
                                           "LSH_PROJECTION",
                                           "LSTM",
                                           "MAX_POOL_2D",
                                           "MUL",
                                           "RELU",
                                           "RELU_N1_TO_1",
                                           "RELU6",
                                           "RESHAPE",
                                           "RESIZE_BILINEAR",
                                           "RNN",
                                           "SOFTMAX",
                                           "SPACE_TO_DEPTH",
                                           "SVDF",
                                           "TANH",
                                           "CONCAT_EMBEDDINGS",
                                           "SKIP_GRAM",
                                           "CALL",
                                           "CUSTOM",
                                           "EMBEDDING_LOOKUP_SPARSE",
                                           "PAD",
                                           "UNIDIRECTIONAL_SEQUENCE_RNN",
                                           "GATHER",
                                           "BATCH_TO_SPACE_ND",
                                           "SPACE_TO_BATCH_ND",
                                           "TRANSPOSE",
                                           "MEAN",
                                           "SUB",
                                           "DIV",
                                           "SQUEEZE",
                                           "UNIDIRECTIONAL_SEQUENCE_LSTM",
                                           "STRIDED_SLICE",
                                           "BIDIRECTIONAL_SEQUENCE_RNN",
                                           "EXP",
                                           "TOPK_V2",
                                           "SPLIT",
                                           "LOG_SOFTMAX",
                                           "DELEGATE",
                                           "BIDIRECTIONAL_SEQUENCE_LSTM",
                                           "CAST",
                                           "PRELU",
                                           "MAXIMUM",
                                           "ARG_MAX",
                                           "MINIMUM",
                                           "LESS",
                                           "NEG",
                                           "PADV2",
                                           "GREATER",
                                           "GREATER_EQUAL",
                                           "LESS_EQUAL",
                                           "SELECT",
                                           "SLICE",
                                           "SIN",
                                           "TRANSPOSE_CONV",
                                           "SPARSE_TO_DENSE",
                                           "TILE",
                                           "EXPAND_DIMS",
                                           "EQUAL",
                                           "NOT_EQUAL",
                                           "LOG",
                                           "SUM",
                                           "SQRT",
                                           "RSQRT",
                                           "SHAPE",
                                           "POW",
                                           "ARG_MIN",
                                           "FAKE_QUANT",
                                           "REDUCE_PROD",
                                           "REDUCE_MAX",
                                           "PACK",
                                           "LOGICAL_OR",
                                           "ONE_HOT",
                                           "LOGICAL_AND",
                                           "LOGICAL_NOT",
                                           "UNPACK",
                                           "REDUCE_MIN",
                                           "FLOOR_DIV",
                                           "REDUCE_ANY",
                                           "SQUARE",
                                           "ZEROS_LIKE",
                                           "FILL",
                                           "FLOOR_MOD",
                                           "RANGE",
                                           "RESIZE_NEAREST_NEIGHBOR",
                                           "LEAKY_RELU",
                                           "SQUARED_DIFFERENCE",
                                           "MIRROR_PAD",
                                           "ABS",
                                           "SPLIT_V",
                                           "UNIQUE",
                                           "CEIL",
                                           "REVERSE_V2",
                                           "ADD_N",
                                           "GATHER_ND",
                                           "COS",
                                           "WHERE",
                                           "RANK",
                                           "ELU",
                                           "REVERSE_SEQUENCE",
                                           "MATRIX_DIAG",
                                           "QUANTIZE",
                                           "MATRIX_SET_DIAG",
                                           "ROUND",
                                           "HARD_SWISH",
                                           "IF",
                                           "WHILE",
                                           "NON_MAX_SUPPRESSION_V4",
                                           "NON_MAX_SUPPRESSION_V5",
                                           "SCATTER_ND",
                                           "SELECT_V2",
                                           "DENSIFY",
                                           "SEGMENT_SUM",
                                           "BATCH_MATMUL"};
  if (code >= 0 && static_cast<size_t>(code) < std::size(kNames)) return kNames[code];
  return absl::StrCat("BUILTIN_", code);
}

}  // namespace q8::engine::tflite
