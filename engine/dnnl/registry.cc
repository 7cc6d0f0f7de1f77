#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

// Kernels of the TFLite importer's internal ops (kernels/pad_kernel.cc, slice_kernel.cc,
// sequence_lstm_kernel.cc).
void RegisterPadKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterStridedSliceKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterSequenceLstmKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterTfliteInt8Kernels(std::map<std::string, KernelBuilder>& registry);

const std::map<std::string, KernelBuilder>& KernelRegistry() {
  static const auto* registry = [] {
    auto* r = new std::map<std::string, KernelBuilder>();
    RegisterQuantizeKernels(*r);
    RegisterQGemmKernel(*r);
    RegisterDequantizeEpilogueKernel(*r);
    RegisterMatMulKernels(*r);
    RegisterElementwiseKernels(*r);
    RegisterShapeKernels(*r);
    RegisterMathKernels(*r);
    RegisterTransformerKernels(*r);
    RegisterLayoutKernels(*r);
    RegisterDynamicQuantKernels(*r);
    RegisterQMatMulKernel(*r);
    RegisterConvPoolKernels(*r);
    RegisterReduceKernels(*r);
    RegisterPadKernel(*r);
    RegisterStridedSliceKernel(*r);
    RegisterSequenceLstmKernel(*r);
    RegisterTfliteInt8Kernels(*r);
    return r;
  }();
  return *registry;
}

std::string OpKey(const ir::Node& node) {
  if (node.domain.empty() || node.domain == "ai.onnx") return node.op_type;
  return absl::StrCat(node.domain, ".", node.op_type);
}

const dnnl::engine& CpuEngine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::memory::data_type ToDnnl(DType dtype) {
  using dt = dnnl::memory::data_type;
  switch (dtype) {
    case DType::kFloat32: return dt::f32;
    case DType::kUint8: return dt::u8;
    case DType::kInt8: return dt::s8;
    case DType::kInt32: return dt::s32;
    default: break;
  }
  return dt::undef;
}

dnnl::memory::desc MemoryDesc(const ValueDesc& v) {
  using tag = dnnl::memory::format_tag;
  // oneDNN has no 0-D memory: a scalar is a 1-element vector.
  const Shape shape = v.shape.empty() ? Shape{1} : v.shape;
  static constexpr tag kPlain[] = {tag::undef, tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  // Channels-last: dim 1 (C) innermost — nwc, nhwc, ndhwc.
  static constexpr tag kChannelsLast[] = {tag::undef, tag::a, tag::ab, tag::acb, tag::acdb, tag::acdeb, tag::undef};
  const size_t rank = std::min<size_t>(shape.size(), 6);
  const tag t = v.layout == Layout::kChannelsLast && kChannelsLast[rank] != tag::undef ? kChannelsLast[rank]
                                                                                      : kPlain[rank];
  return dnnl::memory::desc(ToDims(shape), ToDnnl(v.dtype), t);
}

dnnl::memory::dims ToDims(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

}  // namespace q8::engine::dnnl_backend
