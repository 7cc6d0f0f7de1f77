// q8.DequantizeEpilogue (see passes/fold_dequantize_epilogue.cc):
//   v[i] = act((y_q[i] − z_y)·s_y + b[i mod N])
//   out[i] = Q(v[i], s_out, z_out) = saturate(round_half_even(v / s_out) + z_out), or v
// Inputs: y_q, s_y, z_y (or ""), b (constants read at load) — only y_q at run time.
#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/tensor_quant.h"
#include "engine/quant/quant_math.h"

namespace q8::engine::dnnl_backend {
namespace {

struct EpilogueParams {
  float in_scale = 1.f;
  int32_t in_zero_point = 0;
  std::vector<float> bias;  // N values, or 1
  bool relu = false;
  bool quantized_output = false;
  DType out_dtype = DType::kFloat32;
  float out_scale = 1.f;
  int32_t out_zero_point = 0;
};

// Works in chunks of float values on the stack so that both passes vectorise: the
// dequantize/bias/activation loop (omp simd) and the requantization (QuantizeSpan, the
// same arithmetic as quant::Quantize).
template <typename In, typename Out>
void Epilogue(const EpilogueParams& p, const In* y, int64_t n, Out* out) {
  constexpr int64_t kChunk = 256;
  float v[kChunk];
  const bool per_column = p.bias.size() > 1;
  const int64_t cols = per_column ? static_cast<int64_t>(p.bias.size()) : n;
  const float s = p.in_scale;
  const int32_t z = p.in_zero_point;
  for (int64_t row = 0; row < n; row += cols) {
    for (int64_t c0 = 0; c0 < cols && row + c0 < n; c0 += kChunk) {
      const int64_t len = std::min({kChunk, cols - c0, n - row - c0});
      const In* yi = y + row + c0;
      const float* b = per_column ? p.bias.data() + c0 : nullptr;
      const float b0 = per_column ? 0.f : p.bias[0];
      const bool relu = p.relu;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        float t = static_cast<float>(static_cast<int32_t>(yi[j]) - z) * s + (b ? b[j] : b0);
        v[j] = relu ? (t > 0.f ? t : 0.f) : t;
      }
      if constexpr (std::is_same_v<Out, float>) {
        std::copy(v, v + len, out + row + c0);
      } else {
        quant::QuantizeSpan(v, len, p.out_scale, p.out_zero_point, out + row + c0);
      }
    }
  }
}

class DequantizeEpilogueKernel final : public Kernel {
 public:
  explicit DequantizeEpilogueKernel(EpilogueParams p) : p_(std::move(p)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const ValueDesc& y = in[0];
    if (y.dtype != DType::kUint8 && y.dtype != DType::kInt8) {
      return absl::UnimplementedError(absl::StrCat("input must be uint8 or int8, got ", DTypeName(y.dtype)));
    }
    const int64_t cols = static_cast<int64_t>(p_.bias.size());
    if (cols > 1 && (y.shape.empty() || y.shape.back() != cols)) {
      return absl::InvalidArgumentError(absl::StrCat("bias has ", cols, " values but the input shape ",
                                                     ShapeToString(y.shape), " does not end in ", cols));
    }
    const int64_t n = NumElements(y.shape);
    const EpilogueParams& p = p_;
    const bool in_u8 = y.dtype == DType::kUint8;
    auto run = [&p, n, in_u8](const StepContext& c) {
      auto go = [&](auto* in) {
        switch (p.out_dtype) {
          case DType::kUint8: Epilogue(p, in, n, static_cast<uint8_t*>(c.outputs[0])); break;
          case DType::kInt8: Epilogue(p, in, n, static_cast<int8_t*>(c.outputs[0])); break;
          default: Epilogue(p, in, n, static_cast<float*>(c.outputs[0])); break;
        }
      };
      if (in_u8) go(static_cast<const uint8_t*>(c.inputs[0]));
      else go(static_cast<const int8_t*>(c.inputs[0]));
    };
    PlannedStep planned;
    planned.step = std::make_unique<FunctionStep>(run);
    planned.outputs = {ValueDesc{p_.out_dtype, y.shape}};
    return planned;
  }

 private:
  const EpilogueParams p_;  // the step's lambda refers to it: the kernel outlives its plans
};

absl::StatusOr<BuiltKernel> BuildDequantizeEpilogue(const ir::Node& node, const ir::Graph& graph) {
  EpilogueParams p;
  auto in = ReadTensorQuant(node, graph, 1);
  if (!in.ok()) return in.status();
  auto bias = RequireConstant(node, graph, 3);
  if (!bias.ok()) return bias.status();
  if ((*bias)->dtype() != DType::kFloat32 || (*bias)->num_elements() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bias '", node.Input(3), "' must be float32 with at least one value, got ",
                     DTypeName((*bias)->dtype()), " ", ShapeToString((*bias)->shape())));
  }
  p.in_scale = in->scale;
  p.in_zero_point = in->zero_point;
  p.bias = FloatValues(**bias);
  p.relu = node.GetString("activation", "") == "Relu";
  if (!node.Input(4).empty()) {
    auto out = ReadTensorQuant(node, graph, 4);
    if (!out.ok()) return out.status();
    p.quantized_output = true;
    p.out_scale = out->scale;
    p.out_dtype = out->dtype;
    p.out_zero_point = out->zero_point;
  }
  return BuiltKernel{std::make_unique<DequantizeEpilogueKernel>(std::move(p)), {node.Input(0)}};
}

}  // namespace

void RegisterDequantizeEpilogueKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.DequantizeEpilogue"] = BuildDequantizeEpilogue;
}

}  // namespace q8::engine::dnnl_backend
