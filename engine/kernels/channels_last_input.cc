#include "engine/kernels/channels_last_input.h"

#include "engine/kernels/primitive_step.h"

namespace q8::engine::dnnl_backend {

ChannelsLastInput::ChannelsLastInput(const ValueDesc& in, const dnnl::memory::desc& want)
    : from_(MemoryDesc(in)), want_(want) {
  if (from_ == want_) return;
  dnnl::reorder::primitive_desc pd(CpuEngine(), from_, CpuEngine(), want_, UserScratchpadAttr());
  scratchpad_ = pd.scratchpad_desc();
  reorder_ = dnnl::reorder(pd);
}

const void* ChannelsLastInput::Prepare(const StepContext& c, const void* data) const {
  if (!reorder_) return data;
  const auto& eng = CpuEngine();
  reorder_->execute(c.stream, {{DNNL_ARG_FROM, dnnl::memory(from_, eng, const_cast<void*>(data))},
                               {DNNL_ARG_TO, dnnl::memory(want_, eng, c.workspace)},
                               {DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_, eng, c.scratchpad)}});
  return c.workspace;
}

}  // namespace q8::engine::dnnl_backend
