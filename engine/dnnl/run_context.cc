#include "engine/dnnl/run_context_impl.h"

namespace q8::engine {

RunContext::RunContext() : impl_(std::make_unique<Impl>()) {}
RunContext::~RunContext() = default;

void RunContext::set_profiling(bool on) {
  impl_->profiling = on;
  if (!on) impl_->profile.clear();
}

const std::vector<StepProfile>& RunContext::profile() const { return impl_->profile; }

}  // namespace q8::engine
