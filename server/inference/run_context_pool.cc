#include "server/inference/run_context_pool.h"

#include <utility>

namespace q8::server {

RunContextPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), context_(std::move(other.context_)) {
  other.pool_ = nullptr;
}

RunContextPool::Lease::~Lease() {
  if (pool_ != nullptr && context_ != nullptr) pool_->Return(std::move(context_));
}

RunContextPool::Lease RunContextPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!free_.empty()) {
      std::unique_ptr<engine::RunContext> context = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(context));
    }
  }
  // Created outside the lock: construction allocates and must not serialise requests.
  return Lease(this, std::make_unique<engine::RunContext>());
}

size_t RunContextPool::idle() const {
  absl::MutexLock lock(&mu_);
  return free_.size();
}

void RunContextPool::Return(std::unique_ptr<engine::RunContext> context) {
  absl::MutexLock lock(&mu_);
  if (free_.size() < max_idle_) free_.push_back(std::move(context));
  // else: `context` is destroyed here; at most one such destruction per return.
}

}  // namespace q8::server
