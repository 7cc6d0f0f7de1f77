// Float Gemm and MatMul on oneDNN's f32 matmul. In a QDQ graph the int8 products are
// folded into q8.QGemm; these run whatever stays float.
//
//   Gemm:   Y = alpha · op(A) @ op(B) + beta · C      (C broadcast to [M,N])
//   MatMul: numpy matmul (batched when B has A's batch dims, or B shared when 2-D)
//
// Gemm's C term: dst is pre-filled with beta·C and added by a sum post-op, with alpha as
// the output scale, so oneDNN does the whole expression in one pass.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct FloatMatMulParams {
  bool is_gemm = false;
  bool trans_a = false, trans_b = false;
  float alpha = 1.f, beta = 1.f;
  bool has_c = false;
};

class FloatMatMulStep final : public Step {
 public:
  FloatMatMulStep(dnnl::matmul::primitive_desc pd, int64_t M, int64_t N, int64_t c_stride_m,
                  int64_t c_stride_n, float beta, bool has_c)
      : primitive_(pd), src_md_(pd.src_desc()), weights_md_(pd.weights_desc()),
        dst_md_(pd.dst_desc()), scratchpad_md_(pd.scratchpad_desc()), M_(M), N_(N),
        c_stride_m_(c_stride_m), c_stride_n_(c_stride_n), beta_(beta), has_c_(has_c) {}

  void Execute(const StepContext& c) const override {
    float* y = static_cast<float*>(c.outputs[0]);
    if (has_c_) {
      const float* cv = static_cast<const float*>(c.inputs[2]);
      for (int64_t m = 0; m < M_; ++m) {
        for (int64_t n = 0; n < N_; ++n) y[m * N_ + n] = beta_ * cv[m * c_stride_m_ + n * c_stride_n_];
      }
    }
    const auto& eng = CpuEngine();
    memory a(src_md_, eng, const_cast<void*>(c.inputs[0]));
    memory b(weights_md_, eng, const_cast<void*>(c.inputs[1]));
    memory dst(dst_md_, eng, y);
    memory scratch(scratchpad_md_, eng, c.scratchpad);
    primitive_.execute(c.stream, {{DNNL_ARG_SRC, a},
                                  {DNNL_ARG_WEIGHTS, b},
                                  {DNNL_ARG_DST, dst},
                                  {DNNL_ARG_SCRATCHPAD, scratch}});
  }
  size_t scratchpad_bytes() const override { return scratchpad_md_.get_size(); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::matmul primitive_;
  const memory::desc src_md_, weights_md_, dst_md_, scratchpad_md_;
  const int64_t M_, N_, c_stride_m_, c_stride_n_;
  const float beta_;
  const bool has_c_;
};

class FloatMatMulKernel final : public Kernel {
 public:
  explicit FloatMatMulKernel(FloatMatMulParams p) : p_(p) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].dtype != DType::kFloat32) {
        return absl::UnimplementedError(absl::StrCat("input #", i, " is ", DTypeName(in[i].dtype),
                                                     "; float matmul takes float32"));
      }
    }
    Shape a = in[0].shape, b = in[1].shape;
    if (p_.is_gemm) {
      if (a.size() != 2 || b.size() != 2) {
        return absl::InvalidArgumentError("Gemm takes 2-D A and B");
      }
      if (p_.trans_a) std::swap(a[0], a[1]);
      if (p_.trans_b) std::swap(b[0], b[1]);
    }
    auto d = InferMatMulDims(a, b);
    if (!d.ok()) return d.status();
    int64_t c_stride_m = 0, c_stride_n = 0;
    if (p_.has_c) {
      Shape c = in[2].shape;
      while (c.size() < 2) c.insert(c.begin(), 1);
      if (c.size() != 2 || (c[0] != 1 && c[0] != d->M) || (c[1] != 1 && c[1] != d->N)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "C of shape ", ShapeToString(in[2].shape), " does not broadcast to [", d->M, ",", d->N, "]"));
      }
      c_stride_m = c[0] == 1 ? 0 : c[1];
      c_stride_n = c[1] == 1 ? 0 : 1;
    }
    memory::desc a_md, b_md, y_md;
    if (d->b_batched) {
      a_md = memory::desc({d->batch, d->M, d->K}, dt::f32, tag::abc);
      b_md = memory::desc({d->batch, d->K, d->N}, dt::f32, tag::abc);
      y_md = memory::desc({d->batch, d->M, d->N}, dt::f32, tag::abc);
    } else {
      const int64_t rows = d->batch * d->M;  // B shared: fold A's batch dims into M
      a_md = memory::desc({rows, d->K}, dt::f32, p_.trans_a ? tag::ba : tag::ab);
      b_md = memory::desc({d->K, d->N}, dt::f32, p_.trans_b ? tag::ba : tag::ab);
      y_md = memory::desc({rows, d->N}, dt::f32, tag::ab);
    }
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (p_.alpha != 1.f) attr.set_output_scales(0, {p_.alpha});
    if (p_.has_c) {
      dnnl::post_ops ops;
      ops.append_sum(1.f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, y_md), attr, CpuEngine());
    PlannedStep planned;
    planned.step = std::make_unique<FloatMatMulStep>(pd, d->batch * d->M, d->N, c_stride_m,
                                                     c_stride_n, p_.beta, p_.has_c);
    planned.outputs = {ValueDesc{DType::kFloat32, d->out}};
    return planned;
  }

 private:
  const FloatMatMulParams p_;
};

}  // namespace

void RegisterMatMulKernels(std::map<std::string, KernelBuilder>& r) {
  r["Gemm"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    FloatMatMulParams p;
    p.is_gemm = true;
    p.trans_a = n.GetInt("transA", 0) != 0;
    p.trans_b = n.GetInt("transB", 0) != 0;
    p.alpha = n.GetFloat("alpha", 1.f);
    p.beta = n.GetFloat("beta", 1.f);
    p.has_c = !n.Input(2).empty();
    std::vector<std::string> ins{n.Input(0), n.Input(1)};
    if (p.has_c) ins.push_back(n.Input(2));
    return BuiltKernel{std::make_unique<FloatMatMulKernel>(p), ins};
  };
  r["MatMul"] = [](const ir::Node& n, const ir::Graph&) -> absl::StatusOr<BuiltKernel> {
    return BuiltKernel{std::make_unique<FloatMatMulKernel>(FloatMatMulParams{}),
                       {n.Input(0), n.Input(1)}};
  };
}

}  // namespace q8::engine::dnnl_backend
