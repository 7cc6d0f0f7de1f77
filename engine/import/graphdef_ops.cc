// TF op handlers of the GraphDef importer: one function per op (or op family), one line
// per op in OpHandlers() at the bottom.
//
// Layout. TF activations are NHWC; the engine's Conv/pool ops are NCHW. A rank-4 value a
// conv or pool produces stays NCHW ("<tf>:0@nchw") through element-wise ops, and is
// transposed back to NHWC only where TF element order matters (Reshape, MatMul, Squeeze,
// Softmax, graph outputs); HoistQuantize moves those transposes onto int8 bytes.
//
// Quantized tensors. A quint8/qint8 TF tensor is an IR uint8/int8 value; its float range
// (the min/max inputs TF ops carry) must be known at load time, and gives scale s and zero
// point z by the convention of the op that reads it:
//   MIN_FIRST (quantize_graph's ops; TF quantization_utils.h FloatToQuantized /
//   QuantizedToFloat):  s = (max - min) / (2^8 - 1),  z = lowest(T) - round(min / s)
//   SCALED (Intel's fused ops, QuantizeV2/Dequantize mode SCALED): z = 0,
//     s = max(|min|, |max|) / 255 for quint8,  / 127 for qint8.
// A qint32 tensor (conv / matmul accumulators, bias adds) is held as its real value
// r = s_a·s_b·q in float: every op on it (bias add, relu) is exact in real numbers, and the
// Requantize that ends it becomes a QuantizeLinear, so DequantizeLinear → Conv/MatMul →
// [bias] → [Relu] → QuantizeLinear folds into one int8 oneDNN kernel. TF rounds the
// qint32 sum of a QuantizedBiasAdd to its output range's step (max·2^17/2^31) and uses
// std::round (half away from zero) where QuantizeLinear rounds half to even; both can move
// a final 8-bit result by at most 1 unit. QuantizeV2 is the exception: it rounds exactly
// as TF (EmitRoundHalfAway), since it is where float inputs first become 8-bit.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/import/graphdef_context.h"

namespace q8::engine::graphdef {
namespace {

// ------------------------------------------------------------------ tensors and types

// tensorflow::DataType numbers (types.proto).
enum TfType {
  DT_FLOAT = 1,
  DT_INT32 = 3,
  DT_UINT8 = 4,
  DT_INT8 = 6,
  DT_INT64 = 9,
  DT_BOOL = 10,
  DT_QINT8 = 11,
  DT_QUINT8 = 12,
  DT_QINT32 = 13,
};

DType FromTf(int t) {
  switch (t) {
    case DT_FLOAT:
      return DType::kFloat32;
    case DT_INT32:
    case DT_QINT32:
      return DType::kInt32;
    case DT_UINT8:
    case DT_QUINT8:
      return DType::kUint8;
    case DT_INT8:
    case DT_QINT8:
      return DType::kInt8;
    case DT_INT64:
      return DType::kInt64;
    case DT_BOOL:
      return DType::kBool;
    default:
      return DType::kUnknown;
  }
}

std::string TfTypeName(int t) {
  switch (t) {
    case DT_FLOAT:
      return "float";
    case DT_INT32:
      return "int32";
    case DT_UINT8:
      return "uint8";
    case DT_INT8:
      return "int8";
    case DT_INT64:
      return "int64";
    case DT_BOOL:
      return "bool";
    case DT_QINT8:
      return "qint8";
    case DT_QUINT8:
      return "quint8";
    case DT_QINT32:
      return "qint32";
    default:
      return absl::StrCat("DataType ", t);
  }
}

// TensorProto → Tensor, by TF's rules: tensor_content holds the little-endian bytes;
// otherwise the typed *_val field, where fewer values than elements repeat the last one.
absl::StatusOr<Tensor> TensorFromTf(const tensorflow::TensorProto& p) {
  const DType dtype = FromTf(p.dtype());
  if (dtype == DType::kUnknown) {
    return absl::UnimplementedError(absl::StrCat(
        "tensor of type ", TfTypeName(p.dtype()),
        " (supported: float, int32, int64, uint8, int8, bool, quint8, qint8, qint32)"));
  }
  Shape shape;
  int64_t elements = 1;
  for (const auto& d : p.tensor_shape().dim()) {
    // A bound that also keeps the product from overflowing: 2^32 elements is far beyond
    // any weight tensor of a model this server runs.
    if (d.size() < 0 || d.size() > (int64_t{1} << 32) ||
        (d.size() > 0 && elements > (int64_t{1} << 32) / d.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("constant with dim ", d.size(), " (unknown or too large)"));
    }
    elements *= d.size();
    shape.push_back(d.size());
  }
  Tensor t(dtype, shape);
  const int64_t n = t.num_elements();
  if (!p.tensor_content().empty()) {
    if (p.tensor_content().size() != t.byte_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor_content has ", p.tensor_content().size(), " bytes, a ",
                       TfTypeName(p.dtype()), " tensor of shape ", ShapeToString(shape), " needs ",
                       t.byte_size(), " (is the dtype right?)"));
    }
    if (n > 0) std::memcpy(t.data(), p.tensor_content().data(), t.byte_size());
    return t;
  }
  auto fill = [&](const auto& vals, auto* out) -> absl::Status {
    if (vals.size() == 0) {
      if (n == 0) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("a ", TfTypeName(p.dtype()), " tensor of shape ", ShapeToString(shape),
                       " has no values in the field its dtype uses (is the dtype right?)"));
    }
    if (vals.size() > n) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor of shape ", ShapeToString(shape), " has ", vals.size(), " values"));
    }
    using Out = std::remove_pointer_t<decltype(out)>;
    for (int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<Out>(vals[static_cast<int>(std::min<int64_t>(i, vals.size() - 1))]);
    }
    return absl::OkStatus();
  };
  absl::Status s;
  switch (dtype) {
    case DType::kFloat32:
      s = fill(p.float_val(), t.data_as<float>());
      break;
    case DType::kInt32:
      s = fill(p.int_val(), t.data_as<int32_t>());
      break;
    case DType::kUint8:
      s = fill(p.int_val(), t.data_as<uint8_t>());
      break;
    case DType::kInt8:
      s = fill(p.int_val(), t.data_as<int8_t>());
      break;
    case DType::kInt64:
      s = fill(p.int64_val(), t.data_as<int64_t>());
      break;
    case DType::kBool:
      s = fill(p.bool_val(), t.data_as<uint8_t>());
      break;
    default:
      break;
  }
  if (!s.ok()) return s;
  return t;
}

std::vector<float> FloatsOf(const Tensor& t) {
  const float* p = t.data_as<float>();
  return std::vector<float>(p, p + t.num_elements());
}

// Reorders a 4-D tensor by `perm` (out dim i = in dim perm[i]), any element size.
Tensor Permute4(const Tensor& in, const std::array<int, 4>& perm) {
  const Shape& s = in.shape();
  Shape os{s[perm[0]], s[perm[1]], s[perm[2]], s[perm[3]]};
  Tensor out(in.dtype(), os);
  const size_t es = DTypeSize(in.dtype());
  int64_t in_stride[4];
  in_stride[3] = 1;
  for (int d = 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * s[d + 1];
  const auto* src = static_cast<const uint8_t*>(in.data());
  auto* dst = static_cast<uint8_t*>(out.data());
  int64_t o = 0;
  for (int64_t a = 0; a < os[0]; ++a)
    for (int64_t b = 0; b < os[1]; ++b)
      for (int64_t c = 0; c < os[2]; ++c)
        for (int64_t d = 0; d < os[3]; ++d, ++o) {
          const int64_t idx[4] = {a, b, c, d};
          int64_t i = 0;
          for (int k = 0; k < 4; ++k) i += idx[k] * in_stride[perm[k]];
          std::memcpy(dst + o * es, src + i * es, es);
        }
  return out;
}

// HWIO → OIHW; depthwise [H,W,C,M] → [C·M,1,H,W] (output channel c·M + m, TF's order).
Tensor FilterToOihw(const Tensor& w, bool depthwise) {
  Tensor oihw = Permute4(w, {3, 2, 0, 1});  // [O|M, I|C, H, W]
  if (!depthwise) return oihw;
  const Shape& s = w.shape();             // H W C M
  Tensor cm = Permute4(w, {2, 3, 0, 1});  // [C, M, H, W]
  Tensor out(w.dtype(), {s[2] * s[3], 1, s[0], s[1]});
  std::memcpy(out.data(), cm.data(), cm.byte_size());
  return out;
}

// -------------------------------------------------------------------- quantization

struct QParams {
  std::vector<float> scales;  // one, or one per channel
  std::vector<int32_t> zps;
  DType storage = DType::kUint8;
};

DType StorageOf(int tf_type) {
  if (tf_type == DT_QUINT8 || tf_type == DT_UINT8) return DType::kUint8;
  if (tf_type == DT_QINT8 || tf_type == DT_INT8) return DType::kInt8;
  if (tf_type == DT_QINT32 || tf_type == DT_INT32) return DType::kInt32;
  return DType::kUnknown;
}

int64_t Lowest(DType d) { return d == DType::kUint8 ? 0 : d == DType::kInt8 ? -128 : INT32_MIN; }

// TF quantization_utils.h, QuantizedToFloat / FloatToQuantized (MIN_FIRST):
//   range_scale = (max - min) / (2^bits - 1)      (computed in double, then float)
//   q = round(x / s) - round(min / s) + lowest   ⇒  s = range_scale, z = lowest - round(min/s)
// std::round: half away from zero.
QParams MinFirst(const std::vector<float>& mins, const std::vector<float>& maxs, DType storage) {
  QParams p;
  p.storage = storage;
  const double steps = storage == DType::kInt32 ? 4294967295.0 : 255.0;
  for (size_t i = 0; i < mins.size(); ++i) {
    const float s = static_cast<float>((static_cast<double>(maxs[i]) - mins[i]) / steps);
    p.scales.push_back(s);
    const double z = static_cast<double>(Lowest(storage)) -
                     (s == 0.f ? 0.0 : std::round(static_cast<double>(mins[i]) / s));
    p.zps.push_back(static_cast<int32_t>(z));
  }
  return p;
}

// Intel's int8 ops (mkl_qmatmul_op.cc / mkl_conv_ops.cc) and SCALED mode: symmetric,
// s = max(|min|, |max|) / (255 for quint8, 127 for qint8), z = 0.
QParams Scaled(const std::vector<float>& mins, const std::vector<float>& maxs, DType storage) {
  QParams p;
  p.storage = storage;
  for (size_t i = 0; i < mins.size(); ++i) {
    const float range = std::max(std::fabs(mins[i]), std::fabs(maxs[i]));
    p.scales.push_back(range / (storage == DType::kUint8 ? 255.f : 127.f));
    p.zps.push_back(0);
  }
  return p;
}

int Axis1IfNchw(const TfValue& v) { return v.nchw ? 1 : (v.rank > 0 ? v.rank - 1 : 1); }

// real = s·(q - z): DequantizeLinear(q, s, z) on the IR value of `v` (same layout).
std::string EmitDq(OpContext& c, const std::string& q_ir, const QParams& p, const std::string& out,
                   int axis = 1) {
  const std::string base = c.name();
  const Shape sshape = p.scales.size() > 1 ? Shape{static_cast<int64_t>(p.scales.size())} : Shape{};
  std::string s = c.AddFloatConst(base + "/scale", p.scales, sshape);
  Tensor z(p.storage, sshape);
  for (size_t i = 0; i < p.zps.size(); ++i) {
    if (p.storage == DType::kUint8)
      z.data_as<uint8_t>()[i] = static_cast<uint8_t>(p.zps[i]);
    else if (p.storage == DType::kInt8)
      z.data_as<int8_t>()[i] = static_cast<int8_t>(p.zps[i]);
    else
      z.data_as<int32_t>()[i] = p.zps[i];
  }
  std::string zn = c.AddConst(base + "/zero_point", std::move(z));
  std::map<std::string, ir::Attribute> attrs;
  if (p.scales.size() > 1) attrs["axis"] = int64_t{axis};
  c.Emit("DequantizeLinear", {q_ir, s, zn}, {out}, std::move(attrs),
         absl::StrCat(c.name(), "/dequantize"));
  return out;
}

// q = sat(round_half_even(x / s) + z): QuantizeLinear, per-tensor.
std::string EmitQ(OpContext& c, const std::string& real_ir, const QParams& p,
                  const std::string& out) {
  std::string s = c.AddScalar(c.name() + "/scale", p.scales[0]);
  std::string z = c.AddZeroPoint(c.name() + "/zero_point", p.storage, p.zps[0]);
  c.Emit("QuantizeLinear", {real_ir, s, z}, {out});
  return out;
}

absl::Status CheckQuantType(OpContext& c, DType storage, const char* attr, int tf_type) {
  if (storage == DType::kUint8 || storage == DType::kInt8) return absl::OkStatus();
  return c.Unimplemented(
      absl::StrCat("attribute ", attr, " is ", TfTypeName(tf_type), "; supported: quint8, qint8"));
}

// A quantized data input (quint8 / qint8 IR value) as float: DequantizeLinear with `p`.
absl::StatusOr<std::string> RealOf(OpContext& c, const TfValue& v, const QParams& p, bool nchw) {
  if (v.real_qint32) {
    if (nchw) return c.Nchw(v);
    return c.Nhwc(v);
  }
  if (v.dtype != p.storage) {
    return c.Invalid(absl::StrCat("the op's type attribute says ", DTypeName(p.storage),
                                  " but input '", v.ir, "' holds ", DTypeName(v.dtype)));
  }
  auto q = nchw ? c.Nchw(v) : c.Nhwc(v);
  if (!q.ok()) return q.status();
  if (!v.dyn_scale.empty()) {
    const std::string out = c.OutName(0, nchw ? "@dq_nchw" : "@dq");
    c.Emit("DequantizeLinear", {*q, v.dyn_scale, v.dyn_zp}, {out}, {},
           absl::StrCat(c.name(), "/dequantize"));
    return out;
  }
  return EmitDq(c, *q, p, c.OutName(0, nchw ? "@dq_nchw" : "@dq"));
}

// What a value holds, in TF's words: its IR storage, or qint32 for a qint32 tensor held
// as its real value.
std::string HeldType(const TfValue& v) {
  return v.real_qint32 ? std::string("qint32") : std::string(DTypeName(v.dtype));
}

// Input i must hold the type attribute `attr` (a tensorflow::DataType; `fallback` when the
// node has none, 0 = do not check) says. Values known only at import time (ranges) have no
// IR type and are checked by the op that reads them.
absl::Status CheckInputType(OpContext& c, const TfValue& v, int i, const char* attr,
                            int fallback = 0) {
  const int t = c.Type(attr, fallback);
  if (t == 0 || v.dtype == DType::kUnknown) return absl::OkStatus();
  const bool ok = v.real_qint32 ? t == DT_QINT32 : (t != DT_QINT32 && FromTf(t) == v.dtype);
  if (ok) return absl::OkStatus();
  return c.Invalid(absl::StrCat("attribute ", attr, " says ", TfTypeName(t), " but input ", i, " '",
                                c.node().input(i), "' holds ", HeldType(v)));
}

// A float op: attribute `attr` (T; nullptr for ops without one) must be float, and input i
// must hold float — never quantized bytes, which the op would read as numbers.
absl::Status CheckFloatT(OpContext& c, const TfValue& v, int i, const char* attr = "T") {
  if (attr != nullptr) {
    const int t = c.Type(attr, DT_FLOAT);
    if (t != DT_FLOAT) {
      return c.Unimplemented(absl::StrCat("attribute ", attr, " is ", TfTypeName(t),
                                          "; supported: float (quantized tensors go through "
                                          "the Quantized* ops or Dequantize)"));
    }
    return CheckInputType(c, v, i, attr, DT_FLOAT);
  }
  if (v.dtype == DType::kUnknown || (v.dtype == DType::kFloat32 && !v.real_qint32)) {
    return absl::OkStatus();
  }
  return c.Invalid(absl::StrCat("input ", i, " '", c.node().input(i), "' holds ", HeldType(v),
                                "; the op takes float"));
}

TfValue Floats(std::vector<float> f) {
  TfValue v;
  v.floats = std::move(f);
  return v;
}

// ------------------------------------------------------------------------ helpers

TfValue Like(const TfValue& in, std::string ir, DType dtype) {
  TfValue v;
  v.ir = std::move(ir);
  v.dtype = dtype;
  v.rank = in.rank;
  v.nchw = in.nchw;
  v.real_qint32 = in.real_qint32;
  return v;
}

// An element-wise op with one data input: same layout out.
absl::Status Unary(OpContext& c, const std::string& op, std::vector<std::string> extra = {},
                   std::map<std::string, ir::Attribute> attrs = {}) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckFloatT(c, *x, 0); !s.ok()) return s;
  std::string in = x->ir;
  if (!x->pending_pads.empty() || x->qconst) {
    auto nhwc = c.Nhwc(*x);
    if (!nhwc.ok()) return nhwc.status();
    in = *nhwc;
  }
  std::vector<std::string> inputs{in};
  inputs.insert(inputs.end(), extra.begin(), extra.end());
  const std::string out = c.OutName(0, x->nchw ? "@nchw" : "");
  c.Emit(op, std::move(inputs), {out}, std::move(attrs));
  c.SetOutput(0, Like(*x, out, x->dtype));
  return absl::OkStatus();
}

// Window attributes of Conv2D / pools from TF's NHWC lists.
struct Window {
  std::vector<int64_t> strides{1, 1}, dilations{1, 1}, pads{0, 0, 0, 0};  // pads t,l,b,r
  bool same = false;
};

absl::StatusOr<Window> WindowOf(OpContext& c) {
  if (c.Str("data_format", "NHWC") != "NHWC") {
    return c.Unimplemented(absl::StrCat("data_format ", c.Str("data_format", ""),
                                        " (supported: NHWC, TF's default and its CPU layout)"));
  }
  Window w;
  auto hw = [&](const char* key, std::vector<int64_t>& out) -> absl::Status {
    auto v = c.Ints(key);
    if (v.empty()) return absl::OkStatus();
    if (v.size() != 4 || v[0] != 1 || v[3] != 1) {
      return c.Unimplemented(
          absl::StrCat(key, " must be [1, h, w, 1], is [", absl::StrJoin(v, ","), "]"));
    }
    out = {v[1], v[2]};
    return absl::OkStatus();
  };
  if (auto s = hw("strides", w.strides); !s.ok()) return s;
  if (auto s = hw("dilations", w.dilations); !s.ok()) return s;
  const std::string padding = c.Str("padding", "VALID");
  if (padding == "SAME") {
    w.same = true;
  } else if (padding == "EXPLICIT") {
    auto e = c.Ints(c.Attr("explicit_paddings") ? "explicit_paddings" : "padding_list");
    if (e.size() != 8) return c.Invalid("padding EXPLICIT needs 8 explicit_paddings");
    w.pads = {e[2], e[4], e[3], e[5]};
  } else if (padding != "VALID") {
    return c.Unimplemented(
        absl::StrCat("padding '", padding, "' (supported: SAME, VALID, EXPLICIT)"));
  }
  return w;
}

std::map<std::string, ir::Attribute> WindowAttrs(const Window& w, std::vector<int64_t> kernel) {
  std::map<std::string, ir::Attribute> a;
  a["kernel_shape"] = std::move(kernel);
  a["strides"] = w.strides;
  a["dilations"] = w.dilations;
  if (w.same)
    a["auto_pad"] = std::string("SAME_UPPER");  // TF SAME: the odd pad goes last
  else
    a["pads"] = w.pads;
  return a;
}

// The conv input: a pending Pad folds into the window's pads (zero padding either way).
absl::StatusOr<std::string> ConvInput(OpContext& c, TfValue x, Window& w) {
  if (!x.pending_pads.empty()) {
    if (w.same) return c.Unimplemented("Pad before a SAME-padded conv");
    for (int i = 0; i < 4; ++i) w.pads[i] += x.pending_pads[i];
    x.pending_pads.clear();
  }
  return c.Nchw(x);
}

// Conv on NCHW x with OIHW weights `w_ir`; records the output as a NCHW float value that
// a following BiasAdd may fold into (conv_node).
void EmitConv(OpContext& c, const std::string& x, const std::string& w_ir, const Shape& oihw,
              int64_t group, const Window& w, bool real_qint32) {
  auto attrs = WindowAttrs(w, {oihw[2], oihw[3]});
  attrs["group"] = group;
  const std::string out = c.OutName(0, real_qint32 ? "@real_nchw" : "@nchw");
  TfValue v;
  v.ir = out;
  v.dtype = DType::kFloat32;
  v.rank = 4;
  v.nchw = true;
  v.real_qint32 = real_qint32;
  v.conv_node = c.Emit("Conv", {x, w_ir}, {out}, std::move(attrs));
  c.SetOutput(0, v);
}

// The quantized filter / matrix operand of a quantized op as IR int8 weights with zero
// zero point, which is what the int8 kernels take. quantize_graph's quint8 weights carry a
// zero point z ≠ 0 that oneDNN's int8 conv / matmul cannot apply to weights, so the offset
// is split off exactly, with c = 128 for quint8 (0 for qint8):
//   Σ x·s·(w_q - z) = Σ x·s·(w_q - c)  +  s·(c - z)·Σ x
// main: int8 weights w_q - c (always in [-128, 127]); offset (when c ≠ z): the same window
// sum with all-ones int8 weights and scale s·(c - z) — a second int8 kernel with one
// output channel (per-tensor z) or one per channel. When w_q - z fits in int8 already,
// there is no offset part.
struct QuantWeights {
  std::string main;    // IR value of the dequantized int8 weights
  std::string offset;  // IR value of the all-ones offset weights, or ""
  Shape offset_shape;
};

absl::StatusOr<QuantWeights> QuantizedWeights(OpContext& c, const Tensor& wq, const QParams& p,
                                              int channel_axis, Tensor (*layout)(const Tensor&)) {
  const int64_t n = wq.num_elements();
  const int64_t channels = static_cast<int64_t>(p.scales.size());
  const int64_t inner = [&] {
    int64_t s = 1;
    for (size_t d = channel_axis + 1; d < wq.shape().size(); ++d) s *= wq.shape()[d];
    return s;
  }();
  auto channel = [&](int64_t i) { return channels == 1 ? 0 : (i / inner) % channels; };
  auto value = [&](int64_t i) -> int32_t {
    return wq.dtype() == DType::kUint8 ? wq.data_as<uint8_t>()[i] : wq.data_as<int8_t>()[i];
  };
  bool fits = true;
  for (int64_t i = 0; i < n && fits; ++i) {
    const int32_t d = value(i) - p.zps[channel(i)];
    fits = d >= -128 && d <= 127;
  }
  const int32_t center = wq.dtype() == DType::kUint8 ? 128 : 0;
  std::vector<int32_t> shift(channels);
  for (int64_t k = 0; k < channels; ++k) shift[k] = fits ? p.zps[k] : center;
  Tensor q(DType::kInt8, wq.shape());
  for (int64_t i = 0; i < n; ++i) {
    q.data_as<int8_t>()[i] = static_cast<int8_t>(value(i) - shift[channel(i)]);
  }
  QParams p8 = p;
  p8.storage = DType::kInt8;
  p8.zps.assign(p.zps.size(), 0);
  Tensor laid = layout(q);
  const bool conv = laid.shape().size() == 4;
  const int axis = conv ? 0 : 1;
  QuantWeights w;
  w.main = EmitDq(c, c.AddConst(c.name() + "/weights_q", laid.Clone()), p8,
                  c.OutName(0, "@weights"), axis);
  if (fits) return w;
  // Offset weights: ±1 (the sign of c - z; 0 where c = z) of the main weights' shape with
  // one output channel per offset, scale s·|c - z| (scales must be positive).
  QParams po;
  po.storage = DType::kInt8;
  std::vector<int8_t> sign(channels);
  for (int64_t k = 0; k < channels; ++k) {
    const int32_t d = center - p.zps[k];
    sign[k] = static_cast<int8_t>(d > 0 ? 1 : d < 0 ? -1 : 0);
    po.scales.push_back(p.scales[k] * static_cast<float>(d == 0 ? 1 : std::abs(d)));
    po.zps.push_back(0);
  }
  w.offset_shape = laid.shape();
  w.offset_shape[conv ? 0 : 1] = channels;
  Tensor ones(DType::kInt8, w.offset_shape);
  const int64_t per_row = conv ? ones.num_elements() / channels : 1;
  for (int64_t i = 0; i < ones.num_elements(); ++i) {
    ones.data_as<int8_t>()[i] = sign[conv ? i / per_row : i % channels];
  }
  w.offset = EmitDq(c, c.AddConst(c.name() + "/weight_offset_q", std::move(ones)), po,
                    c.OutName(0, "@weight_offset"), axis);
  return w;
}

Tensor HwioToOihw(const Tensor& t) { return FilterToOihw(t, false); }
Tensor AsIs(const Tensor& t) { return t.Clone(); }

// A 2-D tensor transposed ([r, c] → [c, r]), any element type.
Tensor Transpose2(const Tensor& t) {
  Tensor in(t.dtype(), {t.shape()[0], t.shape()[1], 1, 1});
  std::memcpy(in.data(), t.data(), t.byte_size());
  Tensor p = Permute4(in, {1, 0, 2, 3});
  Tensor out(t.dtype(), {t.shape()[1], t.shape()[0]});
  std::memcpy(out.data(), p.data(), out.byte_size());
  return out;
}

// y = conv(x, w_q - c) [+ conv(x, ones)·s·(c - z)] (QuantizedWeights), NCHW real output;
// the offset conv has the main conv's window and group.
void EmitConvWithOffset(OpContext& c, const std::string& x, const QuantWeights& wr,
                        const Shape& oihw, int64_t group, const Window& window, bool real_qint32) {
  EmitConv(c, x, wr.main, oihw, group, window, real_qint32);
  if (wr.offset.empty()) return;
  TfValue y = c.Output(0);
  const std::string main = y.ir;
  const std::string offset = c.OutName(0, "@weight_offset_sum");
  auto attrs = WindowAttrs(window, {oihw[2], oihw[3]});
  attrs["group"] = group;
  c.Emit("Conv", {x, wr.offset}, {offset}, std::move(attrs), c.name() + "/weight_offset");
  y.ir = c.OutName(0, real_qint32 ? "@real_nchw" : "@nchw");
  y.conv_node = -1;
  c.Emit("Add", {main, offset}, {y.ir}, {}, c.name() + "/add_weight_offset");
  c.SetOutput(0, y);
}

// y = a·(b_q - c) [+ (a·ones)·s·(c - z)] (QuantizedWeights) into `out`.
void EmitMatMulWithOffset(OpContext& c, const std::string& a, const QuantWeights& br,
                          const std::string& out) {
  if (br.offset.empty()) {
    c.Emit("MatMul", {a, br.main}, {out});
    return;
  }
  const std::string main = c.OutName(0, "@main");
  const std::string offset = c.OutName(0, "@weight_offset_sum");
  c.Emit("MatMul", {a, br.main}, {main});
  c.Emit("MatMul", {a, br.offset}, {offset}, {}, c.name() + "/weight_offset");
  c.Emit("Add", {main, offset}, {out}, {}, c.name() + "/add_weight_offset");
}

QParams ParamsOf(const QuantizedConst& qc) {
  QParams p;
  p.storage = DType::kUint8;
  p.scales = qc.scales;
  p.zps = qc.zps;
  return p;
}

// ---------------------------------------------------------------------- float ops

// Placeholder (TF op docs, array_ops): y = the fed tensor of type dtype and shape `shape`
// (-1 = any) — a graph input.
absl::Status Placeholder(OpContext& c) {
  const int type = c.Type("dtype", 0);
  const DType dtype = FromTf(type);
  if (dtype == DType::kUnknown || type == DT_QINT32) {
    return c.Unimplemented(absl::StrCat("dtype ", TfTypeName(type)));
  }
  ir::ValueInfo info;
  info.name = absl::StrCat(c.name(), ":0");
  info.dtype = dtype;
  TfValue v;
  v.ir = info.name;
  v.dtype = dtype;
  // The shape attr, else the "_output_shapes" TF writes when asked (add_shapes=True).
  const tensorflow::TensorShapeProto* proto = nullptr;
  if (const auto* a = c.Attr("shape"); a && a->has_shape() && !a->shape().unknown_rank()) {
    proto = &a->shape();
  } else if (const auto* o = c.Attr("_output_shapes"); o && o->has_list() &&
                                                       o->list().shape_size() == 1 &&
                                                       !o->list().shape(0).unknown_rank()) {
    proto = &o->list().shape(0);
  }
  if (proto == nullptr) {
    // The engine plans each input by rank; an unknown one would fail every request.
    return c.Unimplemented(
        "has no known rank; set the Placeholder's shape (e.g. [-1, 224, 224, 3], -1 for "
        "dims fixed at run time) before freezing");
  }
  Shape shape;
  for (const auto& d : proto->dim()) shape.push_back(d.size() < 0 ? -1 : d.size());
  v.rank = static_cast<int>(shape.size());
  info.shape = shape;
  c.graph().inputs.push_back(std::move(info));
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Const (TF op docs, array_ops): y = value (a TensorProto of type dtype).
absl::Status Const(OpContext& c) {
  const auto* value = c.Attr("value");
  if (value == nullptr || !value->has_tensor()) return c.Invalid("has no tensor 'value'");
  const int declared = c.Type("dtype", value->tensor().dtype());
  if (declared != value->tensor().dtype()) {
    return c.Invalid(absl::StrCat("attribute dtype says ", TfTypeName(declared),
                                  " but its tensor holds ", TfTypeName(value->tensor().dtype())));
  }
  auto t = TensorFromTf(value->tensor());
  if (!t.ok()) return c.Invalid(std::string(t.status().message()));
  TfValue v;
  v.dtype = t->dtype();
  v.rank = static_cast<int>(t->shape().size());
  if (t->dtype() == DType::kFloat32 && t->num_elements() <= 4096) v.floats = FloatsOf(*t);
  v.ir = absl::StrCat(c.name(), ":0");
  c.graph().constants[v.ir] = std::make_shared<const Tensor>(*std::move(t));
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Identity / Snapshot / StopGradient (TF op docs, array_ops): y = x.
absl::Status Identity(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckInputType(c, *x, 0, "T"); !s.ok()) return s;
  if (c.ConstTensor(*x) || x->qconst || !x->pending_pads.empty() || x->ir.empty()) {
    c.SetOutput(0, *x);  // constants and import-time values pass through
    return absl::OkStatus();
  }
  TfValue v = *x;
  v.conv_node = -1;
  v.ir = c.OutName(0, x->nchw ? "@nchw" : "");
  c.Emit("Identity", {x->ir}, {v.ir});
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// NoOp (TF op docs, no_op; control-dependency anchors left in frozen graphs): no output.
absl::Status NoOp(OpContext&) { return absl::OkStatus(); }

// Conv2D (TF op docs, nn_ops): y[n,h,w,o] = Σ_{kh,kw,i} x[n, h·s+kh·d - pad_t,
//   w·s+kw·d - pad_l, i] · f[kh,kw,i,o]
// DepthwiseConv2dNative: y[n,h,w,c·M+m] = Σ_{kh,kw} x[n, …, c] · f[kh,kw,c,m] (group = C).
// A FakeQuant'd filter (QAT) runs int8: real f = s[k]·(q - z[k]), k the filter's last axis
// (o for Conv2D, m for depthwise, as FakeQuantWithMinMaxVarsPerChannel defines it).
absl::Status Conv2D(OpContext& c) {
  const bool depthwise = c.node().op() == "DepthwiseConv2dNative";
  auto x = c.Input(0);
  auto wv = c.Input(1);
  if (!x.ok()) return x.status();
  if (!wv.ok()) return wv.status();
  if (auto s = CheckFloatT(c, *x, 0); !s.ok()) return s;
  auto w = WindowOf(c);
  if (!w.ok()) return w.status();
  if (wv->qconst) {
    const QuantizedConst& qc = *wv->qconst;
    if (qc.q->shape().size() != 4) return c.Invalid("filter must be 4-D [h, w, in, out]");
    Tensor hwio = qc.q->Clone();
    QParams p = ParamsOf(qc);
    const Shape& fs = qc.q->shape();
    int64_t group = 1;
    if (depthwise) {
      // [H, W, C, M] is [H, W, 1, C·M] in memory (output channel c·M + m); its ranges,
      // along m, repeat for every c.
      const int64_t cm = fs[2] * fs[3];
      hwio = Tensor(qc.q->dtype(), {fs[0], fs[1], 1, cm});
      std::memcpy(hwio.data(), qc.q->data(), hwio.byte_size());
      QParams e = p;
      e.scales.clear();
      e.zps.clear();
      for (int64_t o = 0; o < cm; ++o) {
        const size_t k = p.scales.size() == 1 ? 0 : static_cast<size_t>(o % fs[3]);
        e.scales.push_back(p.scales[k]);
        e.zps.push_back(p.zps[k]);
      }
      p = std::move(e);
      group = fs[2];
    }
    auto wr = QuantizedWeights(c, hwio, p, 3, &HwioToOihw);
    if (!wr.ok()) return wr.status();
    auto xin = ConvInput(c, *x, *w);
    if (!xin.ok()) return xin.status();
    const Shape oihw{hwio.shape()[3], hwio.shape()[2], hwio.shape()[0], hwio.shape()[1]};
    EmitConvWithOffset(c, *xin, *wr, oihw, group, *w, false);
    return absl::OkStatus();
  }
  const Tensor* f = c.ConstTensor(*wv);
  if (f == nullptr || f->dtype() != DType::kFloat32 || f->shape().size() != 4) {
    return c.Unimplemented(
        "filter must be a 4-D float Const [h, w, in, out] (or a FakeQuant of one)");
  }
  const int64_t group = depthwise ? f->shape()[2] : 1;
  Tensor oihw = FilterToOihw(*f, depthwise);
  const Shape oshape = oihw.shape();
  const std::string w_ir = c.AddConst(c.name() + "/filter_oihw", std::move(oihw));
  auto xin = ConvInput(c, *x, *w);
  if (!xin.ok()) return xin.status();
  EmitConv(c, *xin, w_ir, oshape, group, *w, false);
  return absl::OkStatus();
}

// MatMul (TF op docs, math_ops): y = op(a)·op(b), op(t) = tᵀ when transpose_a /
// transpose_b. A FakeQuant'd b (QAT) runs int8 like a filter: real b = s[n]·(q - z[n]).
absl::Status MatMul(OpContext& c) {
  auto a = c.Input(0);
  auto b = c.Input(1);
  if (!a.ok()) return a.status();
  if (!b.ok()) return b.status();
  if (auto s = CheckFloatT(c, *a, 0); !s.ok()) return s;
  const bool ta = c.Bool("transpose_a", false);
  const bool tb = c.Bool("transpose_b", false);
  auto ain = c.Nhwc(*a);
  if (!ain.ok()) return ain.status();
  std::string a_ir = *ain;
  if (ta) {
    if (a->rank != 2) return c.Invalid("transpose_a needs a 2-D a");
    a_ir = c.OutName(0, "@a_t");
    c.Emit("Transpose", {*ain}, {a_ir}, {{"perm", std::vector<int64_t>{1, 0}}},
           c.name() + "/transpose_a");
  }
  TfValue v;
  v.ir = c.OutName(0);
  v.dtype = DType::kFloat32;
  v.rank = 2;
  if (b->qconst) {
    const QuantizedConst& qc = *b->qconst;
    if (qc.q->shape().size() != 2) return c.Invalid("b must be 2-D");
    if (tb && qc.per_channel) {
      return c.Unimplemented(
          "per-channel FakeQuant with transpose_b (the ranges run along K, not the outputs)");
    }
    const Tensor q = tb ? Transpose2(*qc.q) : qc.q->Clone();
    auto br = QuantizedWeights(c, q, ParamsOf(qc), 1, &AsIs);
    if (!br.ok()) return br.status();
    EmitMatMulWithOffset(c, a_ir, *br, v.ir);
    c.SetOutput(0, v);
    return absl::OkStatus();
  }
  std::string bin;
  if (const Tensor* bt = c.ConstTensor(*b); bt && tb) {
    if (bt->shape().size() != 2) return c.Invalid("b must be 2-D");
    bin = c.AddConst(c.name() + "/b_t", Transpose2(*bt));
  } else {
    auto n = c.Nhwc(*b);
    if (!n.ok()) return n.status();
    bin = *n;
    if (tb) {
      if (b->rank != 2) return c.Invalid("transpose_b needs a 2-D b");
      bin = c.OutName(0, "@b_t");
      c.Emit("Transpose", {*n}, {bin}, {{"perm", std::vector<int64_t>{1, 0}}},
             c.name() + "/transpose_b");
    }
  }
  c.Emit("MatMul", {a_ir, bin}, {v.ir});
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// x + b along the last (channel) axis; a Conv whose only reader is this add takes b as
// its bias instead (exact: the conv adds it to the same sums).
absl::Status AddBias(OpContext& c, const TfValue& x, std::vector<float> bias,
                     bool same_node = false) {
  if (x.conv_node >= 0 && (same_node || c.consumers_of(TensorName(c.node().input(0))) == 1) &&
      c.node_at(x.conv_node).Input(2).empty()) {
    ir::Node& conv = c.node_at(x.conv_node);
    const int64_t channels = static_cast<int64_t>(bias.size());
    const Tensor* w = c.graph().FindConstant(conv.Input(1));
    if (w != nullptr && !w->shape().empty() && w->shape()[0] != channels) {
      return c.Invalid(absl::StrCat(channels, " bias values for a conv with ", w->shape()[0],
                                    " output channels"));
    }
    conv.inputs.resize(3);
    conv.inputs[2] = c.AddFloatConst(c.name() + "/bias", std::move(bias), {channels});
    TfValue v = x;
    v.conv_node = -1;
    v.ir = c.OutName(0, x.real_qint32 ? "@real_nchw" : "@nchw");
    conv.outputs[0] = v.ir;
    c.SetOutput(0, v);
    return absl::OkStatus();
  }
  const int64_t channels = static_cast<int64_t>(bias.size());
  const std::string b = c.AddFloatConst(c.name() + "/bias", std::move(bias),
                                        x.nchw ? Shape{channels, 1, 1} : Shape{channels});
  std::string in = x.ir;
  if (!x.pending_pads.empty() || x.qconst) {
    auto n = c.Nhwc(x);
    if (!n.ok()) return n.status();
    in = *n;
  }
  TfValue v = Like(x,
                   c.OutName(0, x.nchw ? (x.real_qint32 ? "@real_nchw" : "@nchw")
                                       : (x.real_qint32 ? "@real" : "")),
                   DType::kFloat32);
  c.Emit("Add", {in, b}, {v.ir});
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// BiasAdd (TF op docs, nn_ops): y[..., c] = x[..., c] + bias[c] (NHWC).
absl::Status BiasAdd(OpContext& c) {
  if (c.Str("data_format", "NHWC") != "NHWC") return c.Unimplemented("data_format NCHW");
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckFloatT(c, *x, 0); !s.ok()) return s;
  auto b = c.ConstFloats(1, "bias");
  if (!b.ok()) return b.status();
  return AddBias(c, *x, *std::move(b));
}

// Add / AddV2 (TF op docs, math_ops): y = a + b, numpy broadcasting; operands brought to
// one layout.
absl::Status Add(OpContext& c) {
  auto a = c.Input(0);
  auto b = c.Input(1);
  if (!a.ok()) return a.status();
  if (!b.ok()) return b.status();
  if (auto s = CheckFloatT(c, *a, 0); !s.ok()) return s;
  if (auto s = CheckFloatT(c, *b, 1); !s.ok()) return s;
  const Tensor* ca = c.ConstTensor(*a);
  const Tensor* cb = c.ConstTensor(*b);
  std::string ia, ib;
  bool nchw = false;
  if (ca == nullptr && cb == nullptr) {
    nchw = a->rank == 4 && b->rank == 4 && (a->nchw || b->nchw);
    auto x = nchw ? c.Nchw(*a) : c.Nhwc(*a);
    auto y = nchw ? c.Nchw(*b) : c.Nhwc(*b);
    if (!x.ok()) return x.status();
    if (!y.ok()) return y.status();
    ia = *x;
    ib = *y;
  } else {
    const TfValue& var = ca ? *b : *a;
    const Tensor* k = ca ? ca : cb;
    const int64_t last = k->shape().empty() ? 1 : k->shape().back();
    nchw = var.nchw &&
           (k->num_elements() == 1 || (k->shape().size() <= 4 && k->num_elements() == last));
    auto x = nchw ? absl::StatusOr<std::string>(var.ir) : c.Nhwc(var);
    if (!x.ok()) return x.status();
    std::string kc = ca ? (*a).ir : (*b).ir;
    if (nchw && k->num_elements() > 1) {
      Tensor r = k->Clone();
      Tensor t(r.dtype(), {last, 1, 1});
      std::memcpy(t.data(), r.data(), r.byte_size());
      kc = c.AddConst(c.name() + "/nchw_operand", std::move(t));
    }
    ia = ca ? kc : *x;
    ib = ca ? *x : kc;
  }
  TfValue v;
  v.ir = c.OutName(0, nchw ? "@nchw" : "");
  v.dtype = a->dtype == DType::kUnknown ? b->dtype : a->dtype;
  v.rank = std::max(a->rank, b->rank);
  v.nchw = nchw;
  c.Emit("Add", {ia, ib}, {v.ir});
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Relu (TF op docs, nn_ops): y = max(x, 0).
absl::Status Relu(OpContext& c) { return Unary(c, "Relu"); }

// Relu6 (TF op docs, nn_ops): y = min(max(x, 0), 6) = Clip(x, 0, 6).
absl::Status Relu6(OpContext& c) {
  return Unary(c, "Clip",
               {c.AddScalar(c.name() + "/zero", 0.f), c.AddScalar(c.name() + "/six", 6.f)});
}

// MaxPool / AvgPool over NHWC windows; TF's SAME AvgPool divides by the in-bounds count,
// which is AveragePool's count_include_pad = 0.
absl::StatusOr<std::pair<std::string, std::map<std::string, ir::Attribute>>> PoolSetup(
    OpContext& c, const TfValue& x) {
  auto w = WindowOf(c);
  if (!w.ok()) return w.status();
  auto k = c.Ints("ksize");
  if (k.size() != 4 || k[0] != 1 || k[3] != 1) return c.Unimplemented("ksize must be [1, h, w, 1]");
  auto in = c.Nchw(x);
  if (!in.ok()) return in.status();
  auto attrs = WindowAttrs(*w, {k[1], k[2]});
  attrs.erase("dilations");
  return std::make_pair(*in, std::move(attrs));
}

// MaxPool (TF op docs, nn_ops): y[n,h,w,c] = max over the ksize window at stride of x;
// AvgPool: the mean over the window's in-bounds elements.
absl::Status Pool(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  // MaxPool moves bytes (max commutes with a per-tensor dequantization); AvgPool computes.
  if (auto s = c.node().op() == "MaxPool" ? CheckInputType(c, *x, 0, "T", DT_FLOAT)
                                          : CheckFloatT(c, *x, 0);
      !s.ok()) {
    return s;
  }
  auto setup = PoolSetup(c, *x);
  if (!setup.ok()) return setup.status();
  TfValue v = Like(*x, c.OutName(0, "@nchw"), x->dtype);
  v.nchw = true;
  v.rank = 4;
  if (c.node().op() == "MaxPool") {
    c.MoveData("MaxPool", setup->first, {}, setup->second, v.ir);  // max commutes with DQ
  } else {
    c.Emit("AveragePool", {setup->first}, {v.ir}, setup->second);
  }
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Mean (TF op docs, math_ops): y = Σ x / count over reduction_indices; over axes {1, 2} of
// NHWC that is GlobalAveragePool; keep_dims = false drops H, W.
absl::Status Mean(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckFloatT(c, *x, 0); !s.ok()) return s;
  auto axes = c.ConstInts(1, "reduction_indices");
  if (!axes.ok()) return axes.status();
  std::vector<int64_t> ax = *axes;
  for (auto& a : ax) a = a < 0 ? a + 4 : a;
  std::sort(ax.begin(), ax.end());
  if (x->rank != 4 || ax != std::vector<int64_t>{1, 2}) {
    return c.Unimplemented("Mean is supported over the spatial axes [1, 2] of a 4-D NHWC tensor");
  }
  auto in = c.Nchw(*x);
  if (!in.ok()) return in.status();
  const bool keep = c.Bool("keep_dims", false) || c.Bool("keepdims", false);
  TfValue v;
  v.dtype = DType::kFloat32;
  const std::string pooled = keep ? c.OutName(0, "@nchw") : c.OutName(0, "@pooled");
  c.Emit("GlobalAveragePool", {*in}, {pooled});
  if (keep) {
    v.ir = pooled;
    v.rank = 4;
    v.nchw = true;
  } else {
    v.ir = c.OutName(0);
    v.rank = 2;
    c.Emit("Flatten", {pooled}, {v.ir}, {{"axis", int64_t{1}}}, c.name() + "/flatten");
  }
  c.SetOutput(0, v);
  return absl::OkStatus();
}

absl::Status ReshapeTo(OpContext& c, const TfValue& x, std::vector<int64_t> shape, int out_k) {
  for (int64_t d : shape) {
    if (d == 0) return c.Unimplemented("a 0 in the target shape");
  }
  auto in = c.Nhwc(x);
  if (!in.ok()) return in.status();
  TfValue v = x;
  v.nchw = false;
  v.conv_node = -1;
  v.flat_of = shape == std::vector<int64_t>{-1} ? x.ir : "";
  v.rank = static_cast<int>(shape.size());
  v.ir = c.OutName(out_k);
  c.MoveData("Reshape", *in, {c.AddInt64Const(c.name() + "/shape", std::move(shape))}, {}, v.ir);
  c.SetOutput(out_k, v);
  return absl::OkStatus();
}

// Reshape (TF op docs, array_ops): y = x's elements in row-major order, shape `shape`
// (one -1 inferred).
absl::Status Reshape(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckInputType(c, *x, 0, "T"); !s.ok()) return s;
  auto shape = c.ConstInts(1, "shape");
  if (!shape.ok()) return shape.status();
  return ReshapeTo(c, *x, *shape, 0);
}

// Squeeze (TF op docs, array_ops): y = x without the size-1 dims squeeze_dims (all of them
// when empty).
absl::Status Squeeze(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckInputType(c, *x, 0, "T"); !s.ok()) return s;
  auto in = c.Nhwc(*x);
  if (!in.ok()) return in.status();
  std::vector<int64_t> axes = c.Ints("squeeze_dims");
  if (axes.empty()) axes = c.Ints("axis");
  TfValue v = *x;
  v.nchw = false;
  v.conv_node = -1;
  v.rank = axes.empty() || x->rank < 0 ? -1 : x->rank - static_cast<int>(axes.size());
  v.ir = c.OutName(0);
  std::vector<std::string> extra;
  if (!axes.empty()) extra.push_back(c.AddInt64Const(c.name() + "/axes", axes));
  c.MoveData("Squeeze", *in, std::move(extra), {}, v.ir);
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// ConcatV2 (TF op docs, array_ops): y = values[0] ‖ … ‖ values[N-1] along axis; NCHW
// when all inputs are 4-D and one is NCHW already.
absl::Status ConcatV2(OpContext& c) {
  const int n = c.num_inputs() - 1;
  if (n < 1) return c.Invalid("needs values and an axis");
  auto axis = c.ConstInts(n, "axis");
  if (!axis.ok() || axis->size() != 1) return c.Invalid("axis must be a scalar int Const");
  std::vector<TfValue> vals;
  bool nchw = false, all4 = true;
  for (int i = 0; i < n; ++i) {
    auto v = c.Input(i);
    if (!v.ok()) return v.status();
    if (auto s = CheckInputType(c, *v, i, "T"); !s.ok()) return s;
    nchw = nchw || v->nchw;
    all4 = all4 && v->rank == 4;
    vals.push_back(*v);
  }
  nchw = nchw && all4;
  int64_t a = (*axis)[0];
  if (a < 0) a += vals[0].rank;
  if (a < 0 || (vals[0].rank >= 0 && a >= vals[0].rank)) {
    return c.Invalid(absl::StrCat("axis ", (*axis)[0], " out of range for rank ", vals[0].rank));
  }
  if (nchw) a = std::vector<int64_t>{0, 2, 3, 1}[a];
  std::vector<std::string> inputs;
  for (const auto& v : vals) {
    auto in = nchw ? c.Nchw(v) : c.Nhwc(v);
    if (!in.ok()) return in.status();
    inputs.push_back(*in);
  }
  TfValue out = Like(vals[0], c.OutName(0, nchw ? "@nchw" : ""), vals[0].dtype);
  out.nchw = nchw;
  c.Emit("Concat", std::move(inputs), {out.ir}, {{"axis", a}});
  c.SetOutput(0, out);
  return absl::OkStatus();
}

// Softmax (TF op docs, nn_ops) over the last axis: y = exp(x - max x) / Σ exp(x - max x).
absl::Status Softmax(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckFloatT(c, *x, 0); !s.ok()) return s;
  auto in = c.Nhwc(*x);
  if (!in.ok()) return in.status();
  TfValue v = *x;
  v.nchw = false;
  v.conv_node = -1;
  v.ir = c.OutName(0);
  c.Emit("Softmax", {*in}, {v.ir}, {{"axis", int64_t{-1}}});
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Pad / PadV2 (TF op docs, array_ops): y = x surrounded by paddings[d] = [before, after]
// elements of constant_values (0) per dim d; zeros on H and W only, kept pending and
// folded into the next conv's pads.
absl::Status Pad(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckInputType(c, *x, 0, "T"); !s.ok()) return s;
  auto p = c.ConstInts(1, "paddings");
  if (!p.ok()) return p.status();
  if (c.node().op() == "PadV2") {
    auto value = c.ConstScalar(2, "constant_values");
    if (!value.ok()) return value.status();
    if (*value != 0.f) return c.Unimplemented("PadV2 with a non-zero constant_values");
  }
  if (p->size() != 8 || (*p)[0] || (*p)[1] || (*p)[6] || (*p)[7]) {
    return c.Unimplemented("Pad is supported on the H and W axes of a 4-D NHWC tensor");
  }
  TfValue v = *x;
  v.conv_node = -1;
  v.pending_pads = {(*p)[2], (*p)[4], (*p)[3], (*p)[5]};  // t, l, b, r
  v.pad_source_tf = absl::StrCat(c.name(), ":0");
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// Min / Max (TF op docs, math_ops: y = min / max of x over reduction_indices), supported
// over every element (quantize_graph's run-time range: Reshape(x, [-1]) then a
// reduction over axis 0, or a reduction over all axes): nothing is emitted; a QuantizeV2
// reading both becomes DynamicQuantizeLinear.
absl::Status MinMax(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  auto axes = c.ConstInts(1, "reduction_indices");
  if (!axes.ok()) return axes.status();
  std::string source;
  if (x->rank == 1 && *axes == std::vector<int64_t>{0}) {
    source = x->flat_of.empty() ? x->ir : x->flat_of;
  } else if (x->rank > 0 && static_cast<int>(axes->size()) == x->rank) {
    source = x->ir;
  }
  if (source.empty()) {
    return c.Unimplemented(
        "Min/Max are supported only over all elements, as the range of a QuantizeV2");
  }
  TfValue v;
  v.reduce_of = source;
  v.reduce_kind = c.node().op() == "Min" ? 'm' : 'M';
  v.rank = 0;
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- quantized ops

// round_half_away_from_zero(v) — std::round, TF's rounding — from ops the engine has,
// exactly for |v| < 2^31:
//   t = trunc(v)  (Cast float → int32 → float truncates toward zero)
//   f = v - t ∈ (-1, 1)  (exact in float),  r = t + trunc(2·f)
// 2f ∈ [1, 2) adds 1, 2f ∈ (-2, -1] subtracts 1, anything nearer zero adds 0.
std::string EmitRoundHalfAway(OpContext& c, const std::string& v) {
  auto cast = [&](const std::string& in, int64_t onnx_type, const char* tag) {
    const std::string out = c.OutName(0, tag);
    c.Emit("Cast", {in}, {out}, {{"to", onnx_type}}, absl::StrCat(c.name(), "/round", tag));
    return out;
  };
  constexpr int64_t kOnnxFloat = 1, kOnnxInt32 = 6;
  const std::string t = cast(cast(v, kOnnxInt32, "@trunc_i"), kOnnxFloat, "@trunc");
  const std::string f = c.OutName(0, "@frac");
  c.Emit("Sub", {v, t}, {f}, {}, c.name() + "/round_frac");
  const std::string f2 = c.OutName(0, "@frac2");
  c.Emit("Mul", {f, c.AddScalar(c.name() + "/two", 2.f)}, {f2}, {}, c.name() + "/round_frac2");
  const std::string carry = cast(cast(f2, kOnnxInt32, "@carry_i"), kOnnxFloat, "@carry");
  const std::string r = c.OutName(0, "@rounded");
  c.Emit("Add", {t, carry}, {r}, {}, c.name() + "/round_add");
  return r;
}

// q = sat(round_half_away(v) + z): v (x times TF's scale factor) rounded as std::round,
// then a QuantizeLinear with scale 1, exact on integers.
void EmitQuantizeHalfAway(OpContext& c, const std::string& v, DType storage, int32_t z,
                          const std::string& out) {
  QParams unit;
  unit.storage = storage;
  unit.scales = {1.f};
  unit.zps = {z};
  EmitQ(c, EmitRoundHalfAway(c, v), unit, out);
}

// x clamped to [lo, hi], times `factor`: TF's (clamp(x) [- min]) · scale_factor.
std::string EmitScaled(OpContext& c, const std::string& x, float lo, float hi, float shift,
                       float factor) {
  std::string in = c.OutName(0, "@clamped");
  c.Emit("Clip", {x, c.AddScalar(c.name() + "/lo", lo), c.AddScalar(c.name() + "/hi", hi)}, {in},
         {}, c.name() + "/clamp");
  if (shift != 0.f) {
    const std::string shifted = c.OutName(0, "@shifted");
    c.Emit("Sub", {in, c.AddScalar(c.name() + "/min", shift)}, {shifted}, {},
           c.name() + "/subtract_min");
    in = shifted;
  }
  const std::string v = c.OutName(0, "@scaled");
  c.Emit("Mul", {in, c.AddScalar(c.name() + "/scale_factor", factor)}, {v}, {},
         c.name() + "/scale");
  return v;
}

// QuantizeV2 (TF op docs "tf.quantization.quantize", kernel quantize_op.cc). The range is
// first widened to hold 0 and be at least ensure_minimum_range wide:
//   min' = min(0, min),  max' = max(0, max(max, min' + ε)),  ε = max(1, |min|, |max|)·emr
//   MIN_COMBINED: q = round((clamp(x) - min')·(2^8-1)/(max'-min') [- 128 if qint8])
//   MIN_FIRST:    q = round(x·r) - round(min'·r) + lowest,  r = (2^8-1)/(max'-min')
//                 (quantization_utils.h FloatToQuantized; clamped to [lowest, highest])
//   SCALED:       lowest' = lowest + narrow_range (-127 for qint8, 1 for quint8),
//                 f = min(lowest'/min', highest/max') (each side only when its sign
//                 allows), q = round_mode(clamp(x, lowest'/f, highest/f)·f),
//                 outputs min = lowest'/f, max = highest/f
// round: std::round (half away from zero) in MIN_COMBINED and MIN_FIRST; in SCALED the
// round_mode attribute, HALF_AWAY_FROM_ZERO by default, HALF_TO_EVEN allowed only there
// (the kernel rejects it for other modes). Half away from zero is computed exactly
// (EmitRoundHalfAway); HALF_TO_EVEN is QuantizeLinear(x, 1/f), which divides where TF
// multiplies by f (identical when f is a power of two, else at most 1 ulp of x·f apart).
absl::Status QuantizeV2(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (auto s = CheckFloatT(c, *x, 0, nullptr); !s.ok()) return s;
  const int tf_type = c.Type("T", 0);
  const DType storage = StorageOf(tf_type);
  if (auto s = CheckQuantType(c, storage, "T", tf_type); !s.ok()) return s;
  if (c.Int("axis", -1) != -1) return c.Unimplemented("per-channel QuantizeV2 (axis != -1)");
  const std::string mode = c.Str("mode", "MIN_COMBINED");
  const std::string round_mode = c.Str("round_mode", "HALF_AWAY_FROM_ZERO");
  if (round_mode != "HALF_AWAY_FROM_ZERO" && round_mode != "HALF_TO_EVEN") {
    return c.Invalid(
        absl::StrCat("round_mode '", round_mode, "' (valid: HALF_AWAY_FROM_ZERO, HALF_TO_EVEN)"));
  }
  if (round_mode == "HALF_TO_EVEN" && mode != "SCALED") {
    return c.Invalid(
        absl::StrCat("round_mode HALF_TO_EVEN is valid only with mode SCALED, mode "
                     "is '",
                     mode, "' (TF rejects this node too)"));
  }
  {
    // Run-time range: min/max of x itself (quantize_graph without calibration).
    auto rmin = c.Input(1);
    auto rmax = c.Input(2);
    if (rmin.ok() && rmax.ok() && rmin->reduce_kind == 'm' && rmax->reduce_kind == 'M' &&
        rmin->reduce_of == x->ir && rmax->reduce_of == x->ir) {
      // DynamicQuantizeLinear: s = (max(0, max x) - min(0, min x))/255,
      // z = sat(round(-min(0, min x)/s)), q = sat(round(x/s) + z) — TF's MIN_FIRST quint8
      // with the same widened range, except ensure_minimum_range (only for ranges under
      // 0.01) and ties of the zero point's rounding (≤ 1 unit).
      if (storage != DType::kUint8 || c.Str("mode", "MIN_COMBINED") != "MIN_FIRST") {
        return c.Unimplemented("a run-time range is supported for quint8 MIN_FIRST only");
      }
      TfValue v = Like(*x, c.OutName(0, x->nchw ? "@nchw" : ""), DType::kUint8);
      v.dyn_scale = c.OutName(0, "@scale");
      v.dyn_zp = c.OutName(0, "@zero_point");
      c.Emit("DynamicQuantizeLinear", {x->ir}, {v.ir, v.dyn_scale, v.dyn_zp});
      c.SetOutput(0, v);
      c.SetOutput(1, TfValue{});  // run-time range: readable only through output 0
      c.SetOutput(2, TfValue{});
      return absl::OkStatus();
    }
  }
  auto mn = c.ConstScalar(1, "min_range");
  auto mx = c.ConstScalar(2, "max_range");
  if (!mn.ok()) return mn.status();
  if (!mx.ok()) return mx.status();
  const float emr = c.Float("ensure_minimum_range", 0.01f);
  float lo = std::min(0.f, *mn);
  const float eps = std::max(1.f, std::max(std::fabs(*mn), std::fabs(*mx))) * emr;
  float hi = std::max(0.f, std::max(*mx, lo + eps));
  const std::string out = c.OutName(0);
  if (mode == "MIN_FIRST") {
    // q = round(clamp(x)·r) + (lowest - round(min'·r)): the zero point of MinFirst.
    const QParams p = MinFirst({lo}, {hi}, storage);
    const float r = static_cast<float>(255.0 / (static_cast<double>(hi) - lo));
    EmitQuantizeHalfAway(c, EmitScaled(c, x->ir, lo, hi, 0.f, r), storage, p.zps[0], out);
  } else if (mode == "MIN_COMBINED") {
    // quint8: (v + 0.5) truncated, v ≥ 0 — the same as rounding half away from zero.
    // qint8: round(v - 128), the shift before the rounding, as TF does.
    const float r = static_cast<float>(255.0 / (static_cast<double>(hi) - lo));
    std::string v = EmitScaled(c, x->ir, lo, hi, lo, r);
    if (storage == DType::kInt8) {
      const std::string centered = c.OutName(0, "@centered");
      c.Emit("Sub", {v, c.AddScalar(c.name() + "/half_range", 128.f)}, {centered}, {},
             c.name() + "/center");
      v = centered;
    }
    EmitQuantizeHalfAway(c, v, storage, 0, out);
  } else if (mode == "SCALED") {
    const bool narrow = c.Bool("narrow_range", false);
    const float qmin = storage == DType::kUint8 ? (narrow ? 1.f : 0.f) : (narrow ? -127.f : -128.f);
    const float qmax = storage == DType::kUint8 ? 255.f : 127.f;
    const float big = std::numeric_limits<float>::max();
    const float f = std::min(qmin * lo > 0 ? qmin / lo : big, qmax * hi > 0 ? qmax / hi : big);
    lo = qmin / f;
    hi = qmax / f;
    if (round_mode == "HALF_AWAY_FROM_ZERO") {
      EmitQuantizeHalfAway(c, EmitScaled(c, x->ir, lo, hi, 0.f, f), storage, 0, out);
    } else {
      // The clamp keeps narrow_range's lowest level (-127 / 1); without narrow_range the
      // clamp is QuantizeLinear's own saturation.
      std::string in = x->ir;
      if (narrow) {
        in = c.OutName(0, "@clamped");
        c.Emit("Clip",
               {x->ir, c.AddScalar(c.name() + "/lo", lo), c.AddScalar(c.name() + "/hi", hi)}, {in},
               {}, c.name() + "/clamp");
      }
      QParams p;
      p.storage = storage;
      p.scales = {1.f / f};
      p.zps = {0};
      EmitQ(c, in, p, out);
    }
  } else {
    return c.Unimplemented(
        absl::StrCat("mode '", mode, "' (supported: MIN_COMBINED, MIN_FIRST, SCALED)"));
  }
  c.SetOutput(0, Like(*x, out, storage));
  c.SetOutput(1, Floats({lo}));
  c.SetOutput(2, Floats({hi}));
  return absl::OkStatus();
}

// Dequantize (TF op docs "tf.quantization.dequantize", kernel dequantize_op.cc):
//   MIN_COMBINED: x = (q [+ 128 if qint8])·(max-min)/(2^8-1) + min
//   MIN_FIRST:    x = s·(q - z) with MinFirst(min, max)
//   SCALED:       x = q·f, f = max/255 (quint8) or max(min/lowest, max/127) (qint8)
absl::Status Dequantize(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  if (x->real_qint32) {  // already real
    TfValue v = *x;
    v.real_qint32 = false;
    v.conv_node = -1;
    v.ir = c.OutName(0, x->nchw ? "@nchw" : "");
    c.Emit("Identity", {x->ir}, {v.ir});
    c.SetOutput(0, v);
    return absl::OkStatus();
  }
  const int tf_type = c.Type("T", 0);
  const DType storage = StorageOf(tf_type);
  if (auto s = CheckQuantType(c, storage, "T", tf_type); !s.ok()) return s;
  if (x->dtype != storage) {
    return c.Invalid(absl::StrCat("attribute T says ", TfTypeName(tf_type), " but input '",
                                  c.node().input(0), "' holds ", DTypeName(x->dtype)));
  }
  if (!x->dyn_scale.empty()) {  // the run-time range of a DynamicQuantizeLinear
    TfValue v = Like(*x, c.OutName(0, x->nchw ? "@nchw" : ""), DType::kFloat32);
    c.Emit("DequantizeLinear", {x->ir, x->dyn_scale, x->dyn_zp}, {v.ir});
    c.SetOutput(0, v);
    return absl::OkStatus();
  }
  auto mn = c.ConstScalar(1, "min_range");
  auto mx = c.ConstScalar(2, "max_range");
  if (!mn.ok()) return mn.status();
  if (!mx.ok()) return mx.status();
  const std::string mode = c.Str("mode", "MIN_COMBINED");
  const std::string out = c.OutName(0, x->nchw ? "@nchw" : "");
  QParams p;
  p.storage = storage;
  if (mode == "MIN_FIRST") {
    p = MinFirst({*mn}, {*mx}, storage);
    EmitDq(c, x->ir, p, out);
  } else if (mode == "MIN_COMBINED") {
    p.scales = {(*mx - *mn) / 255.f};
    p.zps = {storage == DType::kUint8 ? 0 : -128};
    const std::string scaled = c.OutName(0, "@scaled");
    EmitDq(c, x->ir, p, scaled);
    c.Emit("Add", {scaled, c.AddScalar(c.name() + "/min", *mn)}, {out}, {}, c.name() + "/add_min");
  } else if (mode == "SCALED") {
    const bool narrow = c.Bool("narrow_range", false);
    const float f = storage == DType::kUint8
                        ? *mx / 255.f
                        : std::max(*mn / (narrow ? -127.f : -128.f), *mx / 127.f);
    p.scales = {f};
    p.zps = {0};
    EmitDq(c, x->ir, p, out);
  } else {
    return c.Unimplemented(
        absl::StrCat("mode '", mode, "' (supported: MIN_COMBINED, MIN_FIRST, SCALED)"));
  }
  TfValue v = Like(*x, out, DType::kFloat32);
  v.real_qint32 = false;
  c.SetOutput(0, v);
  return absl::OkStatus();
}

// The shared part of QuantizedConv2D and Intel's fused conv ops:
//   y_real = Σ (s_x·(x_q - z_x)) · (s_w·(w_q - z_w))  (qint32 output: y_q = y_real/(s_x·s_w))
struct CoreScales {
  float sx = 0;
  std::vector<float> sw;
};

absl::StatusOr<CoreScales> QuantizedConvCore(OpContext& c, bool intel, int min_in_index) {
  auto x = c.Input(0);
  auto wv = c.Input(1);
  if (!x.ok()) return x.status();
  if (!wv.ok()) return wv.status();
  const int tin = c.Type("Tinput", DT_QUINT8),
            tfl = c.Type("Tfilter", intel ? DT_QINT8 : DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(tin), "Tinput", tin); !s.ok()) return s;
  if (auto s = CheckQuantType(c, StorageOf(tfl), "Tfilter", tfl); !s.ok()) return s;
  // A run-time quantized input (DynamicQuantizeLinear) brings its own scale and zero point.
  const bool dyn = !x->dyn_scale.empty() && !intel;
  auto min_x = dyn ? std::vector<float>{0.f} : c.ConstFloats(min_in_index, "min_input");
  auto max_x = dyn ? std::vector<float>{1.f} : c.ConstFloats(min_in_index + 1, "max_input");
  auto min_w = c.ConstFloats(min_in_index + 2, "min_filter");
  auto max_w = c.ConstFloats(min_in_index + 3, "max_filter");
  for (const auto* r : {&min_x, &max_x, &min_w, &max_w}) {
    if (!r->ok()) return r->status();
  }
  if (min_x->size() != 1 || max_x->size() != 1 || min_w->size() != max_w->size()) {
    return c.Invalid("min/max ranges: one input range, and as many filter minima as maxima");
  }
  const Tensor* w = c.ConstTensor(*wv);
  if (w == nullptr || w->shape().size() != 4) {
    return c.Unimplemented("the filter must be a 4-D Const [h, w, in, out]");
  }
  if (w->dtype() != StorageOf(tfl)) {
    return c.Invalid(absl::StrCat("attribute Tfilter says ", TfTypeName(tfl), " but filter '",
                                  c.node().input(1), "' holds ", DTypeName(w->dtype())));
  }
  if (min_w->size() != 1 && static_cast<int64_t>(min_w->size()) != w->shape()[3]) {
    return c.Invalid(
        absl::StrCat(min_w->size(), " filter ranges for ", w->shape()[3], " output channels"));
  }
  auto conv = intel ? &Scaled : &MinFirst;
  const QParams px = conv(*min_x, *max_x, StorageOf(tin));
  const QParams pw = conv(*min_w, *max_w, StorageOf(tfl));
  auto window = WindowOf(c);
  if (!window.ok()) return window.status();
  auto xr = RealOf(c, *x, px, true);
  if (!xr.ok()) return xr.status();
  auto wr = QuantizedWeights(c, *w, pw, 3, &HwioToOihw);
  if (!wr.ok()) return wr.status();
  const Shape oihw{w->shape()[3], w->shape()[2], w->shape()[0], w->shape()[1]};
  EmitConvWithOffset(c, *xr, *wr, oihw, 1, *window, true);
  // QuantizationRangeForMultiplication: one qint32 level = s_x·s_w (known at run time only
  // for a run-time quantized input).
  const float level = px.scales[0] * pw.scales[0];
  c.SetOutput(1, dyn ? TfValue{} : Floats({level * -2147483648.f}));
  c.SetOutput(2, dyn ? TfValue{} : Floats({level * 2147483647.f}));
  return CoreScales{px.scales[0], pw.scales};
}

// QuantizedConv2D (TF op docs, nn_ops; quantized_conv_ops.cc): the qint32 sums
//   y_q = Σ (x_q - z_x)·(w_q - z_w),  range ±2^31 levels of s_x·s_w
// (QuantizationRangeForMultiplication), z = FloatToQuantized(0) of each range.
absl::Status QuantizedConv2D(OpContext& c) { return QuantizedConvCore(c, false, 2).status(); }

// QuantizedMatMul / Intel's QuantizedMatMulWithBias*: y_real = DQ(a)·DQ(b).
absl::StatusOr<CoreScales> QuantizedMatMulCore(OpContext& c, bool intel, int min_a_index) {
  auto a = c.Input(0);
  auto bv = c.Input(1);
  if (!a.ok()) return a.status();
  if (!bv.ok()) return bv.status();
  const bool ta = c.Bool("transpose_a", false);
  const int t1 = c.Type("T1", DT_QUINT8), t2 = c.Type("T2", intel ? DT_QINT8 : DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(t1), "T1", t1); !s.ok()) return s;
  if (auto s = CheckQuantType(c, StorageOf(t2), "T2", t2); !s.ok()) return s;
  const bool dyn = !a->dyn_scale.empty() && !intel;
  auto min_a = dyn ? std::vector<float>{0.f} : c.ConstFloats(min_a_index, "min_a");
  auto max_a = dyn ? std::vector<float>{1.f} : c.ConstFloats(min_a_index + 1, "max_a");
  auto min_b = c.ConstFloats(min_a_index + 2, "min_b");
  auto max_b = c.ConstFloats(min_a_index + 3, "max_b");
  for (const auto* r : {&min_a, &max_a, &min_b, &max_b}) {
    if (!r->ok()) return r->status();
  }
  const Tensor* b = c.ConstTensor(*bv);
  if (b == nullptr || b->shape().size() != 2) return c.Unimplemented("b must be a 2-D Const");
  if (b->dtype() != StorageOf(t2)) {
    return c.Invalid(absl::StrCat("attribute T2 says ", TfTypeName(t2), " but b '",
                                  c.node().input(1), "' holds ", DTypeName(b->dtype())));
  }
  if (min_a->size() != 1 || min_b->size() != 1 || max_a->size() != 1 || max_b->size() != 1) {
    return c.Unimplemented("per-channel ranges on QuantizedMatMul");
  }
  // Intel's input_quant_mode MIN_FIRST (its default) reads a with MinFirst parameters.
  const bool a_min_first = !intel || c.Str("input_quant_mode", "MIN_FIRST") == "MIN_FIRST";
  const QParams pa = (a_min_first ? &MinFirst : &Scaled)(*min_a, *max_a, StorageOf(t1));
  const QParams pb = (intel ? &Scaled : &MinFirst)(*min_b, *max_b, StorageOf(t2));
  const Tensor bt = c.Bool("transpose_b", false) ? Transpose2(*b) : b->Clone();
  auto ar = RealOf(c, *a, pa, false);
  if (!ar.ok()) return ar.status();
  std::string a_ir = *ar;
  if (ta) {
    if (a->rank != 2) return c.Invalid("transpose_a needs a 2-D a");
    a_ir = c.OutName(0, "@a_t");
    c.Emit("Transpose", {*ar}, {a_ir}, {{"perm", std::vector<int64_t>{1, 0}}},
           c.name() + "/transpose_a");
  }
  auto br = QuantizedWeights(c, bt, pb, 1, &AsIs);
  if (!br.ok()) return br.status();
  TfValue v;
  v.ir = c.OutName(0, "@real");
  v.dtype = DType::kFloat32;
  v.rank = 2;
  v.real_qint32 = true;
  EmitMatMulWithOffset(c, a_ir, *br, v.ir);
  c.SetOutput(0, v);
  const float level = pa.scales[0] * pb.scales[0];
  c.SetOutput(1, dyn ? TfValue{} : Floats({level * -2147483648.f}));
  c.SetOutput(2, dyn ? TfValue{} : Floats({level * 2147483647.f}));
  return CoreScales{pa.scales[0], pb.scales};
}

// QuantizedMatMul (TF op docs, math_ops; quantized_matmul_op.cc):
//   y_q = Σ_k (a_q - z_a)·(b_q - z_b), range ±2^31 levels of s_a·s_b, as QuantizedConv2D.
absl::Status QuantizedMatMul(OpContext& c) { return QuantizedMatMulCore(c, false, 2).status(); }

// QuantizedBiasAdd (TF op docs, nn_ops; quantized_bias_add_op.cc): y_real = x_real + b_real;
// qint32 output range
// ±max(|min_x|, |max_x|, |min_b|, |max_b|)·2^17 (GetOutputMinAndMaxForQuantizedAdd).
absl::Status QuantizedBiasAdd(OpContext& c) {
  auto x = c.Input(0);
  auto bv = c.Input(1);
  if (!x.ok()) return x.status();
  if (!bv.ok()) return bv.status();
  std::vector<float> r;
  for (int i = 2; i < 6; ++i) {
    auto f = c.ConstScalar(i, "min/max of input and bias");
    if (!f.ok()) return f.status();
    r.push_back(*f);
  }
  const int t1 = c.Type("T1", DT_QUINT8), t2 = c.Type("T2", DT_QUINT8);
  if (auto s = CheckInputType(c, *x, 0, "T1", DT_QUINT8); !s.ok()) return s;
  const Tensor* b = c.ConstTensor(*bv);
  if (b == nullptr || b->shape().size() != 1) return c.Unimplemented("bias must be a 1-D Const");
  if (b->dtype() != StorageOf(t2)) {
    return c.Invalid(absl::StrCat("attribute T2 says ", TfTypeName(t2), " but bias '",
                                  c.node().input(1), "' holds ", DTypeName(b->dtype())));
  }
  const QParams pb = MinFirst({r[2]}, {r[3]}, b->dtype());
  std::vector<float> bias;
  for (int64_t i = 0; i < b->num_elements(); ++i) {
    const int32_t q =
        b->dtype() == DType::kUint8 ? b->data_as<uint8_t>()[i] : b->data_as<int8_t>()[i];
    bias.push_back(pb.scales[0] * static_cast<float>(q - pb.zps[0]));
  }
  TfValue in = *x;
  if (!x->real_qint32) {
    auto real = RealOf(c, *x, MinFirst({r[0]}, {r[1]}, StorageOf(t1)), x->nchw);
    if (!real.ok()) return real.status();
    in = Like(*x, *real, DType::kFloat32);
  }
  in.real_qint32 = true;
  if (auto s = AddBias(c, in, std::move(bias)); !s.ok()) return s;
  const float m =
      std::max({std::fabs(r[0]), std::fabs(r[1]), std::fabs(r[2]), std::fabs(r[3])}) * 131072.f;
  c.SetOutput(1, Floats({-m}));
  c.SetOutput(2, Floats({m}));
  return absl::OkStatus();
}

// QuantizedRelu (TF op docs, nn_ops; quantized_activation_ops.cc): y_q = max(x_q, z) —
// Relu on the real value, same range out.
// QuantizedRelu6: y_q = min(max(x_q, z), q(6)) — Clip(0, 6).
absl::Status QuantizedActivation(OpContext& c, bool six) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  auto mn = c.ConstScalar(1, "min_features");
  auto mx = c.ConstScalar(2, "max_features");
  if (!mn.ok()) return mn.status();
  if (!mx.ok()) return mx.status();
  std::vector<std::string> clip;
  if (six) clip = {c.AddScalar(c.name() + "/zero", 0.f), c.AddScalar(c.name() + "/six", 6.f)};
  const char* op = six ? "Clip" : "Relu";
  if (auto s = CheckInputType(c, *x, 0, "Tinput", DT_QUINT8); !s.ok()) return s;
  if (x->real_qint32) {
    TfValue v = Like(*x, c.OutName(0, x->nchw ? "@real_nchw" : "@real"), DType::kFloat32);
    std::vector<std::string> in{x->ir};
    in.insert(in.end(), clip.begin(), clip.end());
    c.Emit(op, std::move(in), {v.ir});
    c.SetOutput(0, v);
  } else {
    const int tin = c.Type("Tinput", DT_QUINT8);
    const QParams p = MinFirst({*mn}, {*mx}, StorageOf(tin));
    if (auto s = CheckQuantType(c, p.storage, "Tinput", tin); !s.ok()) return s;
    auto real = RealOf(c, *x, p, x->nchw);
    if (!real.ok()) return real.status();
    const std::string act = c.OutName(0, "@act");
    std::vector<std::string> in{*real};
    in.insert(in.end(), clip.begin(), clip.end());
    c.Emit(op, std::move(in), {act}, {}, c.name() + "/activation");
    const std::string out = c.OutName(0, x->nchw ? "@nchw" : "");
    EmitQ(c, act, p, out);
    c.SetOutput(0, Like(*x, out, p.storage));
  }
  c.SetOutput(1, Floats({*mn}));
  c.SetOutput(2, Floats({*mx}));
  return absl::OkStatus();
}

absl::Status QuantizedRelu(OpContext& c) { return QuantizedActivation(c, false); }
absl::Status QuantizedRelu6(OpContext& c) { return QuantizedActivation(c, true); }

// Requantize (TF op docs, math_ops; requantize.cc):
// y_q = FloatToQuantized(x_real, requested_min, requested_max) — a
// QuantizeLinear with MinFirst(requested range); output range = the requested one.
absl::Status Requantize(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  auto lo = c.ConstScalar(3, "requested_output_min");
  auto hi = c.ConstScalar(4, "requested_output_max");
  if (!lo.ok()) return lo.status();
  if (!hi.ok()) return hi.status();
  const int t = c.Type("out_type", DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(t), "out_type", t); !s.ok()) return s;
  if (auto s = CheckInputType(c, *x, 0, "Tinput", DT_QINT32); !s.ok()) return s;
  std::string real = x->ir;
  if (!x->real_qint32) {
    auto in_lo = c.ConstScalar(1, "input_min");
    auto in_hi = c.ConstScalar(2, "input_max");
    if (!in_lo.ok()) return in_lo.status();
    if (!in_hi.ok()) return in_hi.status();
    auto r = RealOf(c, *x, MinFirst({*in_lo}, {*in_hi}, x->dtype), x->nchw);
    if (!r.ok()) return r.status();
    real = *r;
  }
  const QParams p = MinFirst({*lo}, {*hi}, StorageOf(t));
  const std::string out = c.OutName(0, x->nchw ? "@nchw" : "");
  EmitQ(c, real, p, out);
  TfValue v = Like(*x, out, p.storage);
  v.real_qint32 = false;
  c.SetOutput(0, v);
  c.SetOutput(1, Floats({*lo}));
  c.SetOutput(2, Floats({*hi}));
  return absl::OkStatus();
}

// RequantizationRange (TF op docs, math_ops): [min, max] = the real range of x's values,
// computed at run time; a Requantize reading them fails
// with a message asking to freeze the ranges. Unread, it is harmless.
absl::Status RequantizationRange(OpContext& c) {
  c.SetOutput(0, TfValue{});
  c.SetOutput(1, TfValue{});
  return absl::OkStatus();
}

// QuantizedMaxPool / QuantizedAvgPool (TF op docs, nn_ops; quantized_pooling_ops.cc):
// y_q = pool(x_q), the range passed through — here pooling on the real values, requantized
// with the input's own range (exact for max; avg rounds once, as TF does).
absl::Status QuantizedPool(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  auto mn = c.ConstScalar(1, "min_input");
  auto mx = c.ConstScalar(2, "max_input");
  if (!mn.ok()) return mn.status();
  if (!mx.ok()) return mx.status();
  const int t = c.Type("T", DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(t), "T", t); !s.ok()) return s;
  if (auto s = CheckInputType(c, *x, 0, "T", DT_QUINT8); !s.ok()) return s;
  const QParams p = MinFirst({*mn}, {*mx}, StorageOf(t));
  auto setup = PoolSetup(c, *x);
  if (!setup.ok()) return setup.status();
  const std::string real = EmitDq(c, setup->first, p, c.OutName(0, "@dq_nchw"));
  const std::string pooled = c.OutName(0, "@pooled");
  c.Emit(c.node().op() == "QuantizedMaxPool" ? "MaxPool" : "AveragePool", {real}, {pooled},
         setup->second);
  TfValue v = Like(*x, c.OutName(0, "@nchw"), p.storage);
  v.nchw = true;
  v.rank = 4;
  EmitQ(c, pooled, p, v.ir);
  c.SetOutput(0, v);
  c.SetOutput(1, Floats({*mn}));
  c.SetOutput(2, Floats({*mx}));
  return absl::OkStatus();
}

// QuantizedReshape (TF op docs, array_ops): y_q = Reshape(x_q, shape); the range passes
// through.
absl::Status QuantizedReshape(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  const int t = c.Type("T", DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(t), "T", t); !s.ok()) return s;
  if (auto s = CheckInputType(c, *x, 0, "T", DT_QUINT8); !s.ok()) return s;
  auto shape = c.ConstInts(1, "shape");
  if (!shape.ok()) return shape.status();
  auto mn = c.ConstScalar(2, "input_min");
  auto mx = c.ConstScalar(3, "input_max");
  if (!mn.ok()) return mn.status();
  if (!mx.ok()) return mx.status();
  if (auto s = ReshapeTo(c, *x, *shape, 0); !s.ok()) return s;
  c.SetOutput(1, Floats({*mn}));
  c.SetOutput(2, Floats({*mx}));
  return absl::OkStatus();
}

// QuantizedConcat(concat_dim, values[N], mins[N], maxes[N]) (TF op docs, array_ops;
// quantized_concat_op.cc): every input requantized to
// the output range [min(mins), max(maxes)], then concatenated.
absl::Status QuantizedConcat(OpContext& c) {
  const int n = static_cast<int>(c.Int("N", (c.num_inputs() - 1) / 3));
  if (c.num_inputs() != 1 + 3 * n) return c.Invalid("needs concat_dim, N values, N mins, N maxes");
  auto axis = c.ConstInts(0, "concat_dim");
  if (!axis.ok()) return axis.status();
  if (axis->size() != 1) return c.Invalid("concat_dim must be a scalar");
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  std::vector<float> mins, maxs;
  for (int i = 0; i < n; ++i) {
    auto mn = c.ConstScalar(1 + n + i, "input_mins");
    auto mx = c.ConstScalar(1 + 2 * n + i, "input_maxes");
    if (!mn.ok()) return mn.status();
    if (!mx.ok()) return mx.status();
    mins.push_back(*mn);
    maxs.push_back(*mx);
    lo = std::min(lo, *mn);
    hi = std::max(hi, *mx);
  }
  std::vector<std::string> reals;
  TfValue first;
  for (int i = 0; i < n; ++i) {
    auto v = c.Input(1 + i);
    if (!v.ok()) return v.status();
    if (auto s = CheckInputType(c, *v, 1 + i, "T", DT_QUINT8); !s.ok()) return s;
    if (i == 0) first = *v;
    auto r = RealOf(c, *v, MinFirst({mins[i]}, {maxs[i]}, v->dtype), false);
    if (!r.ok()) return r.status();
    reals.push_back(*r);
  }
  const int t = c.Type("T", DT_QUINT8);
  if (auto s = CheckQuantType(c, StorageOf(t), "T", t); !s.ok()) return s;
  int64_t a = (*axis)[0];
  if (a < 0) a += first.rank;
  const std::string cat = c.OutName(0, "@concat");
  c.Emit("Concat", reals, {cat}, {{"axis", a}}, c.name() + "/concat");
  const QParams p = MinFirst({lo}, {hi}, first.dtype);
  TfValue v = Like(first, c.OutName(0), p.storage);
  v.nchw = false;
  EmitQ(c, cat, p, v.ir);
  c.SetOutput(0, v);
  c.SetOutput(1, Floats({lo}));
  c.SetOutput(2, Floats({hi}));
  return absl::OkStatus();
}

// Intel's fused int8 ops (TF op docs of QuantizedConv2DWithBias… / QuantizedMatMulWithBias…
// in nn_ops / math_ops; kernels mkl_conv_ops.cc, mkl_qmatmul_op.cc), inputs
//   conv:   input, filter, [bias], min_input, max_input, min_filter, max_filter,
//           [min_freezed_output, max_freezed_output]
//   matmul: a, b, bias, min_a, max_a, min_b, max_b, [min_freezed_output, max_freezed_output]
// y_real = conv|matmul(DQ(x), DQ(w)) + bias_real, [Relu], then (…AndRequantize)
// y_q = QuantizeLinear(y_real, Scaled(freezed range, out_type)). A qint32 bias is
// bias_real = s_x·s_w[c]·bias_q; a float bias is real already.
absl::Status IntelFused(OpContext& c) {
  const std::string& op = c.node().op();
  const bool matmul = absl::StartsWith(op, "QuantizedMatMul");
  const bool bias = absl::StrContains(op, "WithBias");
  const bool relu = absl::StrContains(op, "Relu");
  const bool requantize = absl::StrContains(op, "Requantize");
  const int min_index = bias ? 3 : 2;
  auto scales =
      matmul ? QuantizedMatMulCore(c, true, min_index) : QuantizedConvCore(c, true, min_index);
  if (!scales.ok()) return scales.status();
  if (bias) {
    auto bv = c.Input(2);
    if (!bv.ok()) return bv.status();
    const Tensor* b = c.ConstTensor(*bv);
    if (b == nullptr || b->shape().size() != 1) return c.Unimplemented("bias must be a 1-D Const");
    const int tbias = c.Type("Tbias", b->dtype() == DType::kFloat32 ? DT_FLOAT : DT_QINT32);
    if (FromTf(tbias) != b->dtype()) {
      return c.Invalid(absl::StrCat("attribute Tbias says ", TfTypeName(tbias), " but bias '",
                                    c.node().input(2), "' holds ", DTypeName(b->dtype())));
    }
    const size_t channels = static_cast<size_t>(b->num_elements());
    if (scales->sw.size() != 1 && scales->sw.size() != channels) {
      return c.Invalid(
          absl::StrCat(channels, " bias values for ", scales->sw.size(), " filter ranges"));
    }
    std::vector<float> real(channels);
    for (size_t i = 0; i < channels; ++i) {
      real[i] = b->dtype() == DType::kFloat32
                    ? b->data_as<float>()[i]
                    : static_cast<float>(b->data_as<int32_t>()[i]) * scales->sx *
                          scales->sw[scales->sw.size() == 1 ? 0 : i];
    }
    if (auto s = AddBias(c, c.Output(0), std::move(real), true); !s.ok()) return s;
  }
  TfValue y = c.Output(0);
  if (relu) {
    TfValue r = Like(y, c.OutName(0, y.nchw ? "@relu_nchw" : "@relu"), DType::kFloat32);
    c.Emit("Relu", {y.ir}, {r.ir}, {}, c.name() + "/relu");
    y = r;
  }
  if (requantize) {
    auto lo = c.ConstScalar(min_index + 4, "min_freezed_output");
    auto hi = c.ConstScalar(min_index + 5, "max_freezed_output");
    if (!lo.ok()) return lo.status();
    if (!hi.ok()) return hi.status();
    const int t = c.Type(matmul ? "Toutput" : "out_type", DT_QUINT8);
    if (auto s = CheckQuantType(c, StorageOf(t), matmul ? "Toutput" : "out_type", t); !s.ok()) {
      return s;
    }
    const QParams p = Scaled({*lo}, {*hi}, StorageOf(t));
    TfValue q = Like(y, c.OutName(0, y.nchw ? "@nchw" : ""), p.storage);
    q.real_qint32 = false;
    EmitQ(c, y.ir, p, q.ir);
    y = q;
    c.SetOutput(1, Floats({*lo}));
    c.SetOutput(2, Floats({*hi}));
  }
  c.SetOutput(0, y);
  return absl::OkStatus();
}

// --------------------------------------------------------------------- FakeQuant

// FakeQuantWithMinMax{Args,Vars,VarsPerChannel} (TF op docs, fake_quant_ops_functor.h):
//   q_min = narrow_range ? 1 : 0, q_max = 2^bits - 1, s = (max - min)/(q_max - q_min)
//   z = clamp(round(q_min - min/s), q_min, q_max)      (the "nudged" zero point)
//   nudged_min = (q_min - z)·s, nudged_max = (q_max - z)·s
//   y = floor((clamp(x, nudged_min, nudged_max) - nudged_min)/s + 0.5)·s + nudged_min
// i.e. y = s·(q - z), q = k + q_min ∈ [q_min, q_max]: a DequantizeLinear(s, z) of uint8 q.
// A constant input (weights, per-tensor or per-channel along the last axis) is quantized
// here exactly by that formula and kept as uint8 q with zero point z; the Conv2D /
// DepthwiseConv2dNative / MatMul reading it runs int8 with the zero point split off
// exactly (QuantizedWeights), whatever the range's asymmetry. An activation becomes
// [Clip(nudged_min, nudged_max) when narrow_range, so that level 0 is never produced] →
// QuantizeLinear(s, z) → DequantizeLinear(s, z) for the QDQ passes. Rounding: activations
// round half to even where TF computes floor(v + 0.5) (half up), so a result can differ by
// 1 unit at an exact tie; weights are TF-exact.
struct Nudged {
  float scale, nmin, nmax;
  int32_t zp, qmin, qmax;
};

Nudged Nudge(float min, float max, int bits, bool narrow) {
  Nudged n;
  n.qmin = narrow ? 1 : 0;
  n.qmax = (1 << bits) - 1;
  n.scale = (max - min) / static_cast<float>(n.qmax - n.qmin);
  const float zp_from_min = static_cast<float>(n.qmin) - min / n.scale;
  n.zp = zp_from_min < n.qmin   ? n.qmin
         : zp_from_min > n.qmax ? n.qmax
                                : static_cast<int32_t>(std::round(zp_from_min));
  n.nmin = static_cast<float>(n.qmin - n.zp) * n.scale;
  n.nmax = static_cast<float>(n.qmax - n.zp) * n.scale;
  return n;
}

absl::Status FakeQuant(OpContext& c) {
  auto x = c.Input(0);
  if (!x.ok()) return x.status();
  const std::string& op = c.node().op();
  const int bits = static_cast<int>(c.Int("num_bits", 8));
  const bool narrow = c.Bool("narrow_range", false);
  if (bits != 8) return c.Unimplemented(absl::StrCat("num_bits ", bits, " (supported: 8)"));
  std::vector<float> mins, maxs;
  if (op == "FakeQuantWithMinMaxArgs") {
    mins = {c.Float("min", -6.f)};
    maxs = {c.Float("max", 6.f)};
  } else {
    auto mn = c.ConstFloats(1, "min");
    auto mx = c.ConstFloats(2, "max");
    if (!mn.ok()) return mn.status();
    if (!mx.ok()) return mx.status();
    mins = *mn;
    maxs = *mx;
    if (mins.size() != maxs.size() || mins.empty()) return c.Invalid("min and max differ in size");
  }
  std::vector<Nudged> nudged;
  for (size_t i = 0; i < mins.size(); ++i) {
    if (!(maxs[i] > mins[i])) {
      return c.Invalid(absl::StrCat("range [", mins[i], ", ", maxs[i], "] is empty"));
    }
    nudged.push_back(Nudge(mins[i], maxs[i], bits, narrow));
  }
  const bool per_channel = nudged.size() > 1;
  if (const Tensor* t = c.ConstTensor(*x)) {
    if (t->dtype() != DType::kFloat32) return c.Invalid("input must be float");
    if (per_channel && t->shape().empty()) return c.Invalid("per-channel ranges on a scalar");
    const int64_t channels = per_channel ? t->shape().back() : 1;
    if (per_channel && channels != static_cast<int64_t>(nudged.size())) {
      return c.Invalid(absl::StrCat(nudged.size(), " ranges for a last dim of ", channels));
    }
    Tensor q(DType::kUint8, t->shape());
    Tensor f(DType::kFloat32, t->shape());
    for (int64_t i = 0; i < t->num_elements(); ++i) {
      const Nudged& n = nudged[per_channel ? i % channels : 0];
      const float clamped = std::min(std::max(t->data_as<float>()[i], n.nmin), n.nmax);
      const float k = std::floor((clamped - n.nmin) * (1.f / n.scale) + 0.5f);
      f.data_as<float>()[i] = k * n.scale + n.nmin;
      q.data_as<uint8_t>()[i] = static_cast<uint8_t>(static_cast<int32_t>(k) + n.qmin);
    }
    TfValue v;
    v.dtype = DType::kFloat32;
    v.rank = x->rank;
    auto qc = std::make_shared<QuantizedConst>();
    qc->q = std::make_shared<const Tensor>(std::move(q));
    for (const Nudged& n : nudged) {
      qc->scales.push_back(n.scale);
      qc->zps.push_back(n.zp);
    }
    qc->per_channel = per_channel;
    v.qconst = std::move(qc);
    // Any other reader (a bias Add, say) gets the fake-quantized float values.
    v.ir = c.AddConst(absl::StrCat(c.name(), ":0"), std::move(f));
    c.SetOutput(0, v);
    return absl::OkStatus();
  }
  QParams p;
  p.storage = DType::kUint8;
  for (const Nudged& n : nudged) {
    p.scales.push_back(n.scale);
    p.zps.push_back(n.zp);
  }
  const Shape sshape = per_channel ? Shape{static_cast<int64_t>(nudged.size())} : Shape{};
  const std::string s = c.AddFloatConst(c.name() + "/scale", p.scales, sshape);
  Tensor z(DType::kUint8, sshape);
  for (size_t i = 0; i < p.zps.size(); ++i)
    z.data_as<uint8_t>()[i] = static_cast<uint8_t>(p.zps[i]);
  const std::string zn = c.AddConst(c.name() + "/zero_point", std::move(z));
  std::map<std::string, ir::Attribute> attrs;
  if (per_channel) attrs["axis"] = int64_t{Axis1IfNchw(*x)};
  if (!x->pending_pads.empty() || x->ir.empty()) return c.Nhwc(*x).status();
  if (auto st = CheckFloatT(c, *x, 0, /*attr=*/nullptr); !st.ok()) return st;
  std::string in = x->ir;
  if (narrow) {
    // QuantizeLinear would give level 0 below nudged_min - s/2; TF clamps to level 1.
    if (per_channel)
      return c.Unimplemented("per-channel FakeQuant with narrow_range on an activation");
    in = c.OutName(0, x->nchw ? "@clamped_nchw" : "@clamped");
    c.Emit("Clip",
           {x->ir, c.AddScalar(c.name() + "/nudged_min", nudged[0].nmin),
            c.AddScalar(c.name() + "/nudged_max", nudged[0].nmax)},
           {in}, {}, c.name() + "/clamp");
  }
  const std::string q = c.OutName(0, "@q");
  c.Emit("QuantizeLinear", {in, s, zn}, {q}, attrs, c.name() + "/quantize");
  const std::string out = c.OutName(0, x->nchw ? "@nchw" : "");
  c.Emit("DequantizeLinear", {q, s, zn}, {out}, attrs, c.name() + "/dequantize");
  TfValue v = Like(*x, out, DType::kFloat32);
  c.SetOutput(0, v);
  return absl::OkStatus();
}

}  // namespace

const std::map<std::string, OpHandler>& OpHandlers() {
  static const auto* handlers = new std::map<std::string, OpHandler>{
      // float
      {"Placeholder", Placeholder},
      {"Const", Const},
      {"Identity", Identity},
      {"NoOp", NoOp},
      {"Snapshot", Identity},
      {"StopGradient", Identity},
      {"Conv2D", Conv2D},
      {"DepthwiseConv2dNative", Conv2D},
      {"MatMul", MatMul},
      {"BiasAdd", BiasAdd},
      {"Add", Add},
      {"AddV2", Add},
      {"Relu", Relu},
      {"Relu6", Relu6},
      {"MaxPool", Pool},
      {"AvgPool", Pool},
      {"Mean", Mean},
      {"Reshape", Reshape},
      {"Squeeze", Squeeze},
      {"ConcatV2", ConcatV2},
      {"Softmax", Softmax},
      {"Min", MinMax},
      {"Max", MinMax},
      {"Pad", Pad},
      {"PadV2", Pad},
      // quantized (quantize_graph, graph_transforms quantize_nodes)
      {"QuantizeV2", QuantizeV2},
      {"Dequantize", Dequantize},
      {"QuantizedConv2D", QuantizedConv2D},
      {"QuantizedMatMul", QuantizedMatMul},
      {"QuantizedBiasAdd", QuantizedBiasAdd},
      {"QuantizedRelu", QuantizedRelu},
      {"QuantizedRelu6", QuantizedRelu6},
      {"Requantize", Requantize},
      {"RequantizationRange", RequantizationRange},
      {"QuantizedMaxPool", QuantizedPool},
      {"QuantizedAvgPool", QuantizedPool},
      {"QuantizedReshape", QuantizedReshape},
      {"QuantizedConcat", QuantizedConcat},
      // Intel fused int8 ops
      {"QuantizedConv2DWithBias", IntelFused},
      {"QuantizedConv2DWithBiasAndRelu", IntelFused},
      {"QuantizedConv2DWithBiasAndRequantize", IntelFused},
      {"QuantizedConv2DWithBiasAndReluAndRequantize", IntelFused},
      {"QuantizedMatMulWithBias", IntelFused},
      {"QuantizedMatMulWithBiasAndRelu", IntelFused},
      {"QuantizedMatMulWithBiasAndRequantize", IntelFused},
      {"QuantizedMatMulWithBiasAndReluAndRequantize", IntelFused},
      // quantization-aware training
      {"FakeQuantWithMinMaxArgs", FakeQuant},
      {"FakeQuantWithMinMaxVars", FakeQuant},
      {"FakeQuantWithMinMaxVarsPerChannel", FakeQuant},
  };
  return *handlers;
}

}  // namespace q8::engine::graphdef
