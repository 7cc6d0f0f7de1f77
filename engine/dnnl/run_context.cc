#include "engine/dnnl/run_context_impl.h"

namespace q8::engine {

RunContext::RunContext() : impl_(std::make_unique<Impl>()) {}
RunContext::~RunContext() = default;

}  // namespace q8::engine
