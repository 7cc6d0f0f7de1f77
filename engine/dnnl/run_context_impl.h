// What a RunContext holds: a oneDNN stream and two growable aligned buffers. Not
// thread-safe; one per worker.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/dnnl/kernel.h"
#include "engine/engine.h"

namespace q8::engine {

// A 64-byte aligned buffer that only grows: steady-state runs allocate nothing.
class GrowableBuffer {
 public:
  void* Reserve(size_t bytes) {
    if (bytes > capacity_ || !data_) {
      size_t cap = std::max<size_t>((bytes + 63) / 64 * 64, 64);
      void* p = std::aligned_alloc(64, cap);
      if (p == nullptr) throw std::bad_alloc();
      data_.reset(p);
      capacity_ = cap;
    }
    return data_.get();
  }

 private:
  struct Free { void operator()(void* p) const { std::free(p); } };
  std::unique_ptr<void, Free> data_;
  size_t capacity_ = 0;
};

struct RunContext::Impl {
  dnnl::stream stream{dnnl_backend::CpuEngine()};
  GrowableBuffer arena;       // activations of one plan
  GrowableBuffer scratchpad;  // oneDNN user scratchpad (scratchpad_mode::user)
  bool profiling = false;
  std::vector<StepProfile> profile;  // last Run's steps, when profiling
};

}  // namespace q8::engine
