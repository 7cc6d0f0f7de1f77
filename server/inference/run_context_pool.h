// A small free list of engine::RunContext objects.
//
// A RunContext holds a oneDNN stream, scratchpad and activation buffers: costly to make,
// cheap to reuse, and usable by one thread at a time. Requests lease one for the length
// of a Model::Run and give it back; a context is created on demand when the list is
// empty, so the pool grows to the peak number of concurrent runs (bounded by the
// server's handler threads) and keeps at most `max_idle` of them afterwards.
//
// Thread-safe. The pool must outlive every Lease it hands out (a Servable owns its pool
// and a request holds the Servable while it runs).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"

namespace q8::server {

class RunContextPool {
 public:
  // Returns its context to the pool when destroyed. Movable, not copyable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    engine::RunContext& context() { return *context_; }

   private:
    friend class RunContextPool;
    Lease(RunContextPool* pool, std::unique_ptr<engine::RunContext> context)
        : pool_(pool), context_(std::move(context)) {}
    RunContextPool* pool_;
    std::unique_ptr<engine::RunContext> context_;
  };

  // `max_idle`: contexts kept after use; more are destroyed on return. Idle contexts
  // hold activation memory, so the cap trades memory for re-creation after bursts.
  explicit RunContextPool(size_t max_idle = 16) : max_idle_(max_idle) {}
  RunContextPool(const RunContextPool&) = delete;
  RunContextPool& operator=(const RunContextPool&) = delete;

  Lease Acquire();
  size_t idle() const;

 private:
  void Return(std::unique_ptr<engine::RunContext> context);

  const size_t max_idle_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<engine::RunContext>> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace q8::server
