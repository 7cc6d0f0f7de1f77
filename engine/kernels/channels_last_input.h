// An input that a kernel reads channels-last while the producer may have written it plain
// (e.g. a graph input after QuantizeLinear): an optional oneDNN reorder into the step's
// workspace, run at the start of Execute. Immutable after construction; thread-safe to use
// from concurrent Executes with their own StepContexts.
#pragma once

#include <optional>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

class ChannelsLastInput {
 public:
  // `in` is the input as its producer laid it out; `want` how the kernel reads it. No
  // reorder when they are equal.
  ChannelsLastInput(const ValueDesc& in, const dnnl::memory::desc& want);

  // The buffer to read: `data` itself, or the workspace after reordering `data` into it.
  const void* Prepare(const StepContext& c, const void* data) const;

  size_t workspace_bytes() const { return reorder_ ? want_.get_size() : 0; }
  size_t scratchpad_bytes() const { return reorder_ ? scratchpad_.get_size() : 0; }

 private:
  dnnl::memory::desc from_, want_, scratchpad_;
  std::optional<dnnl::reorder> reorder_;
};

}  // namespace q8::engine::dnnl_backend
