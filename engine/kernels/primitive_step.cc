#include "engine/kernels/primitive_step.h"

#include <unordered_map>

namespace q8::engine::dnnl_backend {

void PrimitiveStep::Execute(const StepContext& c) const {
  const dnnl::engine& eng = CpuEngine();
  std::unordered_map<int, dnnl::memory> args;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    args.emplace(inputs_[i].arg,
                 dnnl::memory(inputs_[i].desc, eng, const_cast<void*>(c.inputs[i])));
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    args.emplace(outputs_[i].arg, dnnl::memory(outputs_[i].desc, eng, c.outputs[i]));
  }
  args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_, eng, c.scratchpad));
  primitive_.execute(c.stream, args);
}

std::unique_ptr<Step> MakeSrcDstStep(dnnl::primitive primitive, const dnnl::memory::desc& md,
                                     const dnnl::memory::desc& scratchpad) {
  return std::make_unique<PrimitiveStep>(std::move(primitive),
                                         std::vector<PrimitiveStep::Arg>{{DNNL_ARG_SRC, md}},
                                         std::vector<PrimitiveStep::Arg>{{DNNL_ARG_DST, md}},
                                         scratchpad);
}

dnnl::primitive_attr UserScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void AppendRoundBeforeZeroPoint(DType y_dtype, int32_t y_zero_point, dnnl::post_ops& ops) {
  if ((y_dtype == DType::kInt8 || y_dtype == DType::kUint8) && y_zero_point != 0) {
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_round, 0.f, 0.f);
  }
}

void AppendDstZeroPoint(DType y_dtype, int32_t y_zero_point, dnnl::post_ops& ops) {
  if ((y_dtype == DType::kInt8 || y_dtype == DType::kUint8) && y_zero_point != 0) {
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_round, 0.f, 0.f);
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f, static_cast<float>(y_zero_point));
  }
}

}  // namespace q8::engine::dnnl_backend
