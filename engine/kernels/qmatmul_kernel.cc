// q8.QMatMul: the int8 product of two run-time (activation) tensors, e.g. attention
// scores Q·Kᵀ and context P·V, made from QDQ MatMuls by passes/fold_qdq_matmul_act.cc.
// Batched over leading dims on one oneDNN u8/s8 × s8 matmul:
//
//   acc[b][m][n] = Σ_k (a_q[b][m][k] - z_a) · (b_q[b][k][n] - z_b)       (int32, oneDNN)
//   y            = α · s_a · s_b · acc                                    (float model value)
//   y_q          = saturate(round_half_even(y / s_y) + z_y)               (quantized output)
//
// oneDNN attributes: src zero point z_a, weights zero point z_b, output scale
// α·s_a·s_b / s_y (α·s_a·s_b for a float output), dst zero point z_y.
// oneDNN's int8 matmul takes s8 weights only. A uint8 second operand is shifted at run time
// into the step's workspace, b_s8 = b_u8 - 128 with z_b' = z_b - 128, which leaves every
// difference b - z_b, and so the result, unchanged (the pass usually makes the producer emit
// int8 directly so this copy is not needed).
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/tensor_quant.h"

namespace q8::engine::dnnl_backend {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct QMatMulParams {
  DType a_dtype = DType::kUint8, b_dtype = DType::kInt8;
  int32_t a_zero_point = 0, b_zero_point = 0;
  float output_scale = 1.f;  // α·s_a·s_b / s_y, or α·s_a·s_b for a float output
  bool quantized_output = false;
  DType y_dtype = DType::kFloat32;
  int32_t y_zero_point = 0;
};

class QMatMulStep final : public Step {
 public:
  QMatMulStep(dnnl::matmul::primitive_desc pd, int64_t b_elements, bool shift_b)
      : primitive_(pd), src_md_(pd.src_desc()), weights_md_(pd.weights_desc()),
        dst_md_(pd.dst_desc()), scratchpad_md_(pd.scratchpad_desc()), b_elements_(b_elements),
        shift_b_(shift_b) {}

  void Execute(const StepContext& c) const override {
    const void* b = c.inputs[1];
    if (shift_b_) {  // b_s8 = b_u8 - 128: flipping the top bit does it
      const uint8_t* from = static_cast<const uint8_t*>(b);
      uint8_t* to = static_cast<uint8_t*>(c.workspace);
      for (int64_t i = 0; i < b_elements_; ++i) to[i] = from[i] ^ 0x80;
      b = to;
    }
    const auto& eng = CpuEngine();
    primitive_.execute(c.stream,
                       {{DNNL_ARG_SRC, memory(src_md_, eng, const_cast<void*>(c.inputs[0]))},
                        {DNNL_ARG_WEIGHTS, memory(weights_md_, eng, const_cast<void*>(b))},
                        {DNNL_ARG_DST, memory(dst_md_, eng, c.outputs[0])},
                        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_md_, eng, c.scratchpad)}});
  }
  size_t scratchpad_bytes() const override { return scratchpad_md_.get_size(); }
  size_t workspace_bytes() const override { return shift_b_ ? static_cast<size_t>(b_elements_) : 0; }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::matmul primitive_;
  const memory::desc src_md_, weights_md_, dst_md_, scratchpad_md_;
  const int64_t b_elements_;
  const bool shift_b_;
};

class QMatMulKernel final : public Kernel {
 public:
  explicit QMatMulKernel(QMatMulParams p) : p_(p) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    if (in[0].dtype != p_.a_dtype || in[1].dtype != p_.b_dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "operands are ", DTypeName(in[0].dtype), " and ", DTypeName(in[1].dtype),
          "; the zero points say ", DTypeName(p_.a_dtype), " and ", DTypeName(p_.b_dtype)));
    }
    auto d = InferMatMulDims(in[0].shape, in[1].shape);
    if (!d.ok()) return d.status();
    const bool shift_b = p_.b_dtype == DType::kUint8;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_output_scales(0, {p_.output_scale});
    if (p_.a_zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {p_.a_zero_point});
    const int32_t zb = p_.b_zero_point - (shift_b ? 128 : 0);
    if (zb != 0) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {zb});
    if (p_.quantized_output && p_.y_zero_point != 0) {
      attr.set_zero_points(DNNL_ARG_DST, 0, {p_.y_zero_point});
    }
    const memory::desc a({d->batch, d->M, d->K}, ToDnnl(p_.a_dtype), tag::abc);
    const memory::desc b({d->b_batched ? d->batch : 1, d->K, d->N}, dt::s8, tag::abc);
    const memory::desc y({d->batch, d->M, d->N}, ToDnnl(p_.y_dtype), tag::abc);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, y), attr, CpuEngine());
    PlannedStep planned;
    planned.step = std::make_unique<QMatMulStep>(pd, NumElements(in[1].shape), shift_b);
    planned.outputs = {ValueDesc{p_.y_dtype, d->out}};
    return planned;
  }

  bool is_int8() const override { return true; }

 private:
  const QMatMulParams p_;
};

// Inputs: a_q, a_scale, a_zp, b_q, b_scale, b_zp, [y_scale, y_zp] (QLinearMatMul's order);
// all but a_q and b_q are per-tensor constants. Attribute alpha (default 1) scales y.
absl::StatusOr<BuiltKernel> BuildQMatMul(const ir::Node& node, const ir::Graph& graph) {
  QMatMulParams p;
  float scale = node.GetFloat("alpha", 1.f);
  TensorQuant q[2];
  for (int i = 0; i < 2; ++i) {
    const size_t scale_input = i == 0 ? 1 : 4;
    if (node.Input(scale_input + 1).empty()) {  // its type is the operand's: needed here
      return absl::UnimplementedError(
          absl::StrCat("input #", scale_input + 1, " (zero point) must be a constant"));
    }
    auto read = ReadTensorQuant(node, graph, scale_input);
    if (!read.ok()) return read.status();
    q[i] = *read;
    scale *= q[i].scale;
  }
  p.a_dtype = q[0].dtype;
  p.a_zero_point = q[0].zero_point;
  p.b_dtype = q[1].dtype;
  p.b_zero_point = q[1].zero_point;
  if (!node.Input(6).empty()) {
    auto y = ReadTensorQuant(node, graph, 6);
    if (!y.ok()) return y.status();
    p.quantized_output = true;
    p.y_dtype = y->dtype;
    p.y_zero_point = y->zero_point;
    scale /= y->scale;
  }
  p.output_scale = scale;
  return BuiltKernel{std::make_unique<QMatMulKernel>(p), {node.Input(0), node.Input(3)}};
}

}  // namespace

void RegisterQMatMulKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.QMatMul"] = BuildQMatMul;
}

}  // namespace q8::engine::dnnl_backend
