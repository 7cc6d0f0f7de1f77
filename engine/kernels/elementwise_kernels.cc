// Element-wise ops: Relu (oneDNN eltwise), Add / Mul (oneDNN binary when only the second
// operand broadcasts, else a numpy-broadcast loop), Identity (copy).
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;


// A primitive with one source and one destination of the same plain layout, plus an
// optional second source (binary).
class PrimitiveStep final : public Step {
 public:
  // `swap`: the step's inputs 0 and 1 feed src1 and src0 (a commutative op whose
  // full-size operand is the second input).
  PrimitiveStep(dnnl::primitive p, memory::desc src0, memory::desc src1, memory::desc dst,
                memory::desc scratchpad, bool swap = false)
      : primitive_(std::move(p)), src0_(src0), src1_(src1), dst_(dst), scratchpad_(scratchpad),
        swap_(swap) {}

  void Execute(const StepContext& c) const override {
    const auto& eng = CpuEngine();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_DST, memory(dst_, eng, c.outputs[0])},
        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_, eng, c.scratchpad)}};
    if (c.inputs.size() == 1) {
      args.emplace(DNNL_ARG_SRC, memory(src0_, eng, const_cast<void*>(c.inputs[0])));
    } else {
      args.emplace(DNNL_ARG_SRC_0, memory(src0_, eng, const_cast<void*>(c.inputs[swap_ ? 1 : 0])));
      args.emplace(DNNL_ARG_SRC_1, memory(src1_, eng, const_cast<void*>(c.inputs[swap_ ? 0 : 1])));
    }
    primitive_.execute(c.stream, args);
  }
  size_t scratchpad_bytes() const override { return scratchpad_.get_size(); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::primitive primitive_;
  const memory::desc src0_, src1_, dst_, scratchpad_;
  const bool swap_;
};

class ReluKernel final : public Kernel {
 public:
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (in[0].dtype != DType::kFloat32) return absl::UnimplementedError("Relu takes float32");
    const memory::desc md = MemoryDesc(in[0]);  // element-wise: any layout, kept as is
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::eltwise_relu, md, 0.f),
        attr, CpuEngine());
    PlannedStep p;
    p.step = std::make_unique<PrimitiveStep>(dnnl::eltwise_forward(pd), md, md, md,
                                             pd.scratchpad_desc());
    p.outputs = {in[0]};
    return p;
  }
  bool accepts_channels_last() const override { return true; }
};

// Element strides of `s` broadcast to `out` (0 where s has size 1 or is missing).
std::vector<int64_t> BroadcastStrides(const Shape& s, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t si = s.size() - 1 - i, oi = out.size() - 1 - i;
    strides[oi] = s[si] == 1 ? 0 : stride;
    stride *= s[si];
  }
  return strides;
}

template <typename T, typename Op>
void BroadcastLoop(const Shape& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb,
                   const T* a, const T* b, T* y, Op op) {
  const int64_t n = NumElements(out);
  std::vector<int64_t> idx(out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = op(a[ia], b[ib]);
    for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {  // odometer increment
      ++idx[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

class BinaryKernel final : public Kernel {
 public:
  explicit BinaryKernel(dnnl::algorithm alg) : alg_(alg) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const DType t = in[0].dtype;
    if (in[1].dtype != t) {
      return absl::InvalidArgumentError(absl::StrCat("operands differ in type: ", DTypeName(t),
                                                     " and ", DTypeName(in[1].dtype)));
    }
    auto out = BroadcastShape(in[0].shape, in[1].shape);
    if (!out.ok()) return out.status();
    PlannedStep p;
    // Channels-last operands: oneDNN binary reads any layout, as long as the full-size
    // operand comes first (Add and Mul commute) and the other only broadcasts.
    const bool channels_last = in[0].layout == Layout::kChannelsLast ||
                               in[1].layout == Layout::kChannelsLast;
    const bool swap = in[0].shape != *out;
    const ValueDesc& full = swap ? in[1] : in[0];
    const ValueDesc& other = swap ? in[0] : in[1];
    p.outputs = {ValueDesc{t, *out, full.layout}};
    if (t == DType::kFloat32 && full.shape == *out && !out->empty()) {
      // oneDNN binary: src0 full size, src1 broadcast along dims of size 1.
      ValueDesc b = other;
      while (b.shape.size() < out->size()) b.shape.insert(b.shape.begin(), 1);
      if (b.shape != *out) b.layout = full.layout;  // a broadcast operand is laid out like src0
      const memory::desc a_md = MemoryDesc(full), b_md = MemoryDesc(b);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg_, a_md, b_md, a_md), attr,
                                      CpuEngine());
      p.step = std::make_unique<PrimitiveStep>(dnnl::binary(pd), a_md, b_md, a_md,
                                               pd.scratchpad_desc(), swap);
      return p;
    }
    if (channels_last && !(in[0].shape == in[1].shape && in[0].layout == in[1].layout)) {
      return absl::UnimplementedError(absl::StrCat(
          "channels-last operands ", ShapeToString(in[0].shape), " and ", ShapeToString(in[1].shape),
          " of type ", DTypeName(t), " (only float32 with one full-size operand)"));
    }
    p.outputs = {ValueDesc{t, *out, in[0].layout}};  // equal shapes when channels-last
    const Shape o = *out;
    const auto sa = BroadcastStrides(in[0].shape, o), sb = BroadcastStrides(in[1].shape, o);
    const bool add = alg_ == dnnl::algorithm::binary_add;
    auto run = [o, sa, sb, t, add](const StepContext& c) {
      auto go = [&](auto tag) {
        using T = decltype(tag);
        BroadcastLoop<T>(o, sa, sb, static_cast<const T*>(c.inputs[0]),
                         static_cast<const T*>(c.inputs[1]), static_cast<T*>(c.outputs[0]),
                         [add](T x, T y) { return static_cast<T>(add ? x + y : x * y); });
      };
      switch (t) {
        case DType::kFloat32: go(float{}); break;
        case DType::kInt32: go(int32_t{}); break;
        case DType::kInt64: go(int64_t{}); break;
        case DType::kUint8: go(uint8_t{}); break;
        case DType::kInt8: go(int8_t{}); break;
        default: break;
      }
    };
    if (t == DType::kBool || t == DType::kUnknown) {
      return absl::UnimplementedError("arithmetic on bool is not supported");
    }
    p.step = std::make_unique<FunctionStep>(run);
    return p;
  }
  bool accepts_channels_last() const override { return true; }

 private:
  const dnnl::algorithm alg_;
};

class IdentityKernel final : public Kernel {
 public:
  bool accepts_empty_tensors() const override { return true; }
  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const size_t bytes = static_cast<size_t>(NumElements(in[0].shape)) * DTypeSize(in[0].dtype);
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(
        [bytes](const StepContext& c) { std::memcpy(c.outputs[0], c.inputs[0], bytes); });
    p.outputs = {in[0]};
    return p;
  }
  bool accepts_channels_last() const override { return true; }
};

}  // namespace

void RegisterElementwiseKernels(std::map<std::string, KernelBuilder>& r) {
  r["Relu"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<ReluKernel>(), {n.Input(0)}};
  };
  r["Add"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<BinaryKernel>(dnnl::algorithm::binary_add),
                       {n.Input(0), n.Input(1)}};
  };
  r["Mul"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<BinaryKernel>(dnnl::algorithm::binary_mul),
                       {n.Input(0), n.Input(1)}};
  };
  r["Identity"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<IdentityKernel>(), {n.Input(0)}};
  };
}

}  // namespace q8::engine::dnnl_backend
