// q8.Pad (TFLite PAD / PADV2 that could not be folded into a convolution): constant padding
// of the stored values, any element type. Attribute `pads` is ONNX's [begin..., end...];
// input 1 is a one-element constant of the input's type, the value written into the border
// (the zero point of a quantized tensor, i.e. real 0).
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

class PadKernel final : public Kernel {
 public:
  PadKernel(std::vector<int64_t> pads, const Tensor& fill)
      : pads_(std::move(pads)), fill_dtype_(fill.dtype()) {
    std::memcpy(fill_, fill.data(), DTypeSize(fill.dtype()));
  }

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& x = in[0].shape;
    const size_t rank = x.size();
    if (in[0].dtype != fill_dtype_ || pads_.size() != 2 * rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", DTypeName(in[0].dtype), " ", ShapeToString(x), " does not fit ",
                       pads_.size(), " pads of a ", DTypeName(fill_dtype_), " pad value"));
    }
    Shape y(rank);
    for (size_t d = 0; d < rank; ++d) y[d] = x[d] + pads_[d] + pads_[rank + d];
    const size_t width = DTypeSize(in[0].dtype);
    const std::vector<int64_t> pads = pads_;
    uint8_t fill[8];
    std::memcpy(fill, fill_, sizeof(fill));
    auto run = [=](const StepContext& c) {
      auto* out = static_cast<uint8_t*>(c.outputs[0]);
      const auto* src = static_cast<const uint8_t*>(c.inputs[0]);
      const int64_t n_out = NumElements(y);
      for (int64_t i = 0; i < n_out; ++i) std::memcpy(out + i * width, fill, width);
      // Copy the input row by row (innermost dim contiguous) into its place.
      const int64_t inner = rank ? x[rank - 1] : 1;
      const int64_t rows = inner ? NumElements(x) / inner : 0;
      std::vector<int64_t> idx(rank, 0);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) {
          const int64_t i = d + 1 == rank ? 0 : idx[d];
          off = off * y[d] + i + pads[d];
        }
        std::memcpy(out + off * width, src + r * inner * width, inner * width);
        for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
          if (++idx[d] < x[d]) break;
          idx[d] = 0;
        }
      }
    };
    PlannedStep p;
    p.step = std::make_unique<FunctionStep>(std::move(run));
    p.outputs = {ValueDesc{in[0].dtype, y}};
    return p;
  }

 private:
  const std::vector<int64_t> pads_;
  const DType fill_dtype_;
  uint8_t fill_[8] = {};
};

absl::StatusOr<BuiltKernel> BuildPad(const ir::Node& node, const ir::Graph& graph) {
  auto fill = RequireConstant(node, graph, 1);
  if (!fill.ok()) return fill.status();
  if ((*fill)->num_elements() != 1 || DTypeSize((*fill)->dtype()) == 0) {
    return absl::InvalidArgumentError("the pad value must be one element");
  }
  for (int64_t p : node.GetInts("pads")) {
    if (p < 0) return absl::UnimplementedError("negative pads (cropping)");
  }
  return BuiltKernel{std::make_unique<PadKernel>(node.GetInts("pads"), **fill), {node.Input(0)}};
}

}  // namespace

void RegisterPadKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.Pad"] = BuildPad;
}

}  // namespace q8::engine::dnnl_backend
