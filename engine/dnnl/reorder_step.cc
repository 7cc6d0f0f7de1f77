#include "engine/dnnl/reorder_step.h"

namespace q8::engine::dnnl_backend {
namespace {

class ReorderStep final : public Step {
 public:
  ReorderStep(const dnnl::memory::desc& from, const dnnl::memory::desc& to)
      : from_(from), to_(to), primitive_(dnnl::reorder::primitive_desc(CpuEngine(), from, CpuEngine(), to)) {}

  void Execute(const StepContext& c) const override {
    dnnl::memory src(from_, CpuEngine(), const_cast<void*>(c.inputs[0]));
    dnnl::memory dst(to_, CpuEngine(), c.outputs[0]);
    primitive_.execute(c.stream, src, dst);
  }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::memory::desc from_, to_;
  const dnnl::reorder primitive_;
};

}  // namespace

std::unique_ptr<Step> MakeReorderStep(const ValueDesc& from, const ValueDesc& to) {
  return std::make_unique<ReorderStep>(MemoryDesc(from), MemoryDesc(to));
}

}  // namespace q8::engine::dnnl_backend
