// Element-wise math beyond Add / Mul / Relu (elementwise_kernels.cc):
//   Sub, Div, Pow      numpy-broadcast binary ops; float Sub/Div on oneDNN binary when only
//                      the second operand broadcasts, otherwise a strided loop; Pow also
//                      with an exponent of another type (computed in double)
//   Sqrt, Tanh,        oneDNN eltwise (sqrt, tanh, logistic); q8.Gelu is the fused Erf-GELU
//   Sigmoid, q8.Gelu   pattern, 0.5·x·(1 + erf(x/√2)), as eltwise gelu_erf
//   Erf                std::erf loop (oneDNN has no plain erf)
//   Cast               between float32, int32, int64, uint8, int8 and bool (C++ conversion:
//                      float → int truncates toward zero; anything → bool is x != 0)
#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/primitive_step.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;

// Calls fn(T{}) with the C++ type of `dtype`; false for types without arithmetic here.
template <typename Fn>
bool VisitArithmeticType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kInt32: fn(int32_t{}); return true;
    case DType::kInt64: fn(int64_t{}); return true;
    case DType::kUint8: fn(uint8_t{}); return true;
    case DType::kInt8: fn(int8_t{}); return true;
    case DType::kBool: fn(bool{}); return true;
    default: return false;
  }
}

// ---- Unary ops.
class EltwiseKernel final : public Kernel {
 public:
  EltwiseKernel(dnnl::algorithm alg, float alpha, float beta) : alg_(alg), alpha_(alpha), beta_(beta) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (in[0].dtype != DType::kFloat32) {
      return absl::UnimplementedError(absl::StrCat("input is ", DTypeName(in[0].dtype),
                                                   "; only float32 is supported"));
    }
    const memory::desc md = MemoryDesc(in[0]);
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, alg_, md, alpha_, beta_),
        UserScratchpadAttr(), CpuEngine());
    PlannedStep p;
    p.step = MakeSrcDstStep(dnnl::eltwise_forward(pd), md, pd.scratchpad_desc());
    p.outputs = {in[0]};
    return p;
  }

 private:
  const dnnl::algorithm alg_;
  const float alpha_, beta_;
};

class ErfKernel final : public Kernel {
 public:
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (in[0].dtype != DType::kFloat32) return absl::UnimplementedError("Erf takes float32");
    const int64_t n = NumElements(in[0].shape);
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>([n](const StepContext& c) {
      const float* x = static_cast<const float*>(c.inputs[0]);
      float* y = static_cast<float*>(c.outputs[0]);
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
    });
    p.outputs = {in[0]};
    return p;
  }
};

class CastKernel final : public Kernel {
 public:
  explicit CastKernel(DType to) : to_(to) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const DType from = in[0].dtype, to = to_;
    bool ok = true;
    VisitArithmeticType(from, [&](auto) { ok = ok && VisitArithmeticType(to, [](auto) {}); });
    if (!VisitArithmeticType(from, [](auto) {}) || !ok) {
      return absl::UnimplementedError(absl::StrCat("Cast from ", DTypeName(from), " to ",
                                                   DTypeName(to), " (supported: float32, int32, "
                                                   "int64, uint8, int8, bool)"));
    }
    const int64_t n = NumElements(in[0].shape);
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>([n, from, to](const StepContext& c) {
      VisitArithmeticType(from, [&](auto src_tag) {
        using S = decltype(src_tag);
        VisitArithmeticType(to, [&](auto dst_tag) {
          using D = decltype(dst_tag);
          const S* x = static_cast<const S*>(c.inputs[0]);
          D* y = static_cast<D*>(c.outputs[0]);
          for (int64_t i = 0; i < n; ++i) {
            if constexpr (std::is_same_v<D, bool>) {
              y[i] = x[i] != S{0};
            } else {
              y[i] = static_cast<D>(x[i]);
            }
          }
        });
      });
    });
    p.outputs = {ValueDesc{to, in[0].shape}};
    return p;
  }

 private:
  const DType to_;
};

// ---- Binary ops with numpy broadcasting.
enum class BinaryOp { kSub, kDiv, kPow };

// Output dims and, per operand, the element stride of each output dim (0 = broadcast).
struct Broadcast {
  Shape out;
  std::vector<int64_t> stride_a, stride_b;
};

absl::StatusOr<Broadcast> MakeBroadcast(const Shape& a, const Shape& b) {
  Broadcast r;
  const size_t rank = std::max(a.size(), b.size());
  r.out.assign(rank, 1);
  r.stride_a.assign(rank, 0);
  r.stride_b.assign(rank, 0);
  int64_t sa = 1, sb = 1;
  for (size_t i = 0; i < rank; ++i) {  // from the innermost dim outwards
    const size_t d = rank - 1 - i;
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", ShapeToString(a), " and ",
                                                     ShapeToString(b), " do not broadcast"));
    }
    r.out[d] = da == 1 ? db : da;
    r.stride_a[d] = da == 1 ? 0 : sa;
    r.stride_b[d] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  return r;
}

// y[...] = op(a[...], b[...]) over dims [d, rank), recursing outer → inner.
template <typename A, typename B, typename Y, typename Op>
Y* ApplyBroadcast(const Broadcast& bc, size_t d, const A* a, const B* b, Y* y, Op op) {
  const int64_t n = bc.out[d];
  if (d + 1 == bc.out.size()) {
    for (int64_t i = 0; i < n; ++i) *y++ = op(a[i * bc.stride_a[d]], b[i * bc.stride_b[d]]);
    return y;
  }
  for (int64_t i = 0; i < n; ++i) {
    y = ApplyBroadcast(bc, d + 1, a + i * bc.stride_a[d], b + i * bc.stride_b[d], y, op);
  }
  return y;
}

template <typename T>
T ApplyOp(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::kSub: return static_cast<T>(x - y);
    case BinaryOp::kDiv:
      if constexpr (std::is_integral_v<T>) {
        if (y == 0) return T{0};  // integer division by zero: 0 rather than a trap
      }
      return static_cast<T>(x / y);
    case BinaryOp::kPow: return static_cast<T>(std::pow(x, y));
  }
  return T{};
}

class BroadcastBinaryKernel final : public Kernel {
 public:
  explicit BroadcastBinaryKernel(BinaryOp op) : op_(op) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const DType t = in[0].dtype;
    if (op_ == BinaryOp::kPow && in[1].dtype != t) return PlanMixedPow(in);
    if (in[1].dtype != t) {
      return absl::UnimplementedError(absl::StrCat("operands of different types (",
                                                   DTypeName(t), ", ", DTypeName(in[1].dtype),
                                                   ") are not supported"));
    }
    if (t == DType::kBool || !VisitArithmeticType(t, [](auto) {})) {
      return absl::UnimplementedError(absl::StrCat("arithmetic on ", DTypeName(t)));
    }
    auto bc = MakeBroadcast(in[0].shape, in[1].shape);
    if (!bc.ok()) return bc.status();
    PlannedStep p;
    p.outputs = {ValueDesc{t, bc->out}};
    if (t == DType::kFloat32 && op_ != BinaryOp::kPow && bc->out == in[0].shape && !bc->out.empty()) {
      // oneDNN binary: src0 has the output's shape, src1 broadcasts along its size-1 dims.
      Shape b = in[1].shape;
      b.insert(b.begin(), bc->out.size() - b.size(), 1);
      const memory::desc a_md = MemoryDesc(in[0]), b_md = MemoryDesc(ValueDesc{t, b});
      const auto alg = op_ == BinaryOp::kSub ? dnnl::algorithm::binary_sub : dnnl::algorithm::binary_div;
      dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, a_md, b_md, a_md), UserScratchpadAttr(),
                                      CpuEngine());
      p.step = std::make_unique<PrimitiveStep>(
          dnnl::binary(pd), std::vector<PrimitiveStep::Arg>{{DNNL_ARG_SRC_0, a_md}, {DNNL_ARG_SRC_1, b_md}},
          std::vector<PrimitiveStep::Arg>{{DNNL_ARG_DST, a_md}}, pd.scratchpad_desc());
      return p;
    }
    const Broadcast plan = *bc;
    const BinaryOp op = op_;
    p.step = std::make_unique<FunctionStep>([plan, op, t](const StepContext& c) {
      VisitArithmeticType(t, [&](auto tag) {
        using T = decltype(tag);
        const T* a = static_cast<const T*>(c.inputs[0]);
        const T* b = static_cast<const T*>(c.inputs[1]);
        T* y = static_cast<T*>(c.outputs[0]);
        if (plan.out.empty()) {
          *y = ApplyOp(op, *a, *b);
        } else if constexpr (!std::is_same_v<T, bool>) {
          ApplyBroadcast(plan, 0, a, b, y, [op](T x, T z) { return ApplyOp(op, x, z); });
        }
      });
    });
    return p;
  }

 private:
  // Pow (opset >= 12) with an exponent of another type than the base: z = x^y computed in
  // double and converted to the base's type, as the ONNX reference (numpy) does.
  static absl::StatusOr<PlannedStep> PlanMixedPow(absl::Span<const ValueDesc> in) {
    const DType base = in[0].dtype, exponent = in[1].dtype;
    const bool base_ok = base == DType::kFloat32 || base == DType::kInt32 || base == DType::kInt64;
    const bool exponent_ok =
        base_ok && exponent != DType::kBool && VisitArithmeticType(exponent, [](auto) {});
    if (!exponent_ok) {
      return absl::UnimplementedError(absl::StrCat(
          "Pow of a ", DTypeName(base), " base and a ", DTypeName(exponent),
          " exponent (supported: base float32, int32 or int64; exponent float32, int32, int64, "
          "uint8 or int8)"));
    }
    auto bc = MakeBroadcast(in[0].shape, in[1].shape);
    if (!bc.ok()) return bc.status();
    PlannedStep p;
    p.outputs = {ValueDesc{base, bc->out}};
    const Broadcast plan = *bc;
    p.step = std::make_unique<FunctionStep>([plan, base, exponent](const StepContext& c) {
      VisitArithmeticType(base, [&](auto base_tag) {
        using X = decltype(base_tag);
        VisitArithmeticType(exponent, [&](auto exponent_tag) {
          using E = decltype(exponent_tag);
          auto pow = [](X x, E e) {
            return static_cast<X>(std::pow(static_cast<double>(x), static_cast<double>(e)));
          };
          const X* x = static_cast<const X*>(c.inputs[0]);
          const E* e = static_cast<const E*>(c.inputs[1]);
          X* z = static_cast<X*>(c.outputs[0]);
          if (plan.out.empty()) {
            *z = pow(*x, *e);
          } else if constexpr (!std::is_same_v<X, bool> && !std::is_same_v<E, bool>) {
            ApplyBroadcast(plan, 0, x, e, z, pow);
          }
        });
      });
    });
    return p;
  }

  const BinaryOp op_;
};

template <typename K, typename... Args>
KernelBuilder UnaryBuilder(Args... args) {
  return [args...](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<K>(args...), {n.Input(0)}};
  };
}

KernelBuilder BinaryBuilder(BinaryOp op) {
  return [op](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<BroadcastBinaryKernel>(op), {n.Input(0), n.Input(1)}};
  };
}

// ONNX TensorProto.DataType codes of the types Cast can produce.
absl::StatusOr<DType> OnnxTypeCode(int64_t code) {
  switch (code) {
    case 1: return DType::kFloat32;
    case 2: return DType::kUint8;
    case 3: return DType::kInt8;
    case 6: return DType::kInt32;
    case 7: return DType::kInt64;
    case 9: return DType::kBool;
    default: break;
  }
  // TensorProto.DataType names of the codes the engine has no tensors for.
  static constexpr const char* kNames[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                           "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                           "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                           "COMPLEX128", "BFLOAT16"};
  const char* name = code >= 0 && code < 17 ? kNames[code] : "an unknown type";
  return absl::UnimplementedError(absl::StrCat("Cast to ", name, " (ONNX type ", code,
                                               "); supported: float, uint8, int8, int32, int64, "
                                               "bool"));
}

}  // namespace

void RegisterMathKernels(std::map<std::string, KernelBuilder>& r) {
  using dnnl::algorithm;
  r["Sqrt"] = UnaryBuilder<EltwiseKernel>(algorithm::eltwise_sqrt, 0.f, 0.f);
  r["Tanh"] = UnaryBuilder<EltwiseKernel>(algorithm::eltwise_tanh, 0.f, 0.f);
  r["Sigmoid"] = UnaryBuilder<EltwiseKernel>(algorithm::eltwise_logistic, 0.f, 0.f);
  r["q8.Gelu"] = UnaryBuilder<EltwiseKernel>(algorithm::eltwise_gelu_erf, 0.f, 0.f);
  r["Erf"] = UnaryBuilder<ErfKernel>();
  r["Sub"] = BinaryBuilder(BinaryOp::kSub);
  r["Div"] = BinaryBuilder(BinaryOp::kDiv);
  r["Pow"] = BinaryBuilder(BinaryOp::kPow);
  r["Cast"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    auto to = OnnxTypeCode(n.GetInt("to", 0));
    if (!to.ok()) return to.status();
    return BuiltKernel{std::make_unique<CastKernel>(*to), {n.Input(0)}};
  };
}

}  // namespace q8::engine::dnnl_backend
