#include "server/repository/load_pool.h"

#include <algorithm>
#include <utility>

namespace q8::server {

LoadPool::LoadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkLoop(); });
}

LoadPool::~LoadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

LoadPool::Task* LoadPool::Take(const Group* group) {
  auto it = group == nullptr ? queue_.begin()
                             : std::find_if(queue_.begin(), queue_.end(),
                                            [group](const Task* t) { return t->group == group; });
  if (it == queue_.end()) return nullptr;
  Task* task = *it;
  queue_.erase(it);
  return task;
}

bool LoadPool::HasQueued(const Group* group) const {
  return std::any_of(queue_.begin(), queue_.end(),
                     [group](const Task* t) { return t->group == group; });
}

void LoadPool::Run(Task* task) {
  task->run();
  absl::MutexLock lock(&mu_);
  --task->group->unfinished;
}

void LoadPool::WorkLoop() {
  for (;;) {
    Task* task = nullptr;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      task = Take(nullptr);
      // Stopping with nothing queued: the destructor's precondition (no RunAll in
      // progress) means nothing more will be.
      if (task == nullptr) return;
    }
    Run(task);
  }
}

void LoadPool::RunAll(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  Group group;
  std::vector<Task> items;
  items.reserve(tasks.size());
  for (std::function<void()>& run : tasks) items.push_back({std::move(run), &group});
  {
    absl::MutexLock lock(&mu_);
    group.unfinished = static_cast<int>(items.size());
    for (Task& task : items) queue_.push_back(&task);
  }
  for (;;) {
    Task* mine = nullptr;
    {
      absl::MutexLock lock(&mu_);
      // Run our own unstarted tasks rather than wait for a worker: a worker may be this
      // very thread's caller, waiting for us (see the header).
      auto ready = [this, &group]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return group.unfinished == 0 || HasQueued(&group);
      };
      mu_.Await(absl::Condition(&ready));
      if (group.unfinished == 0) return;
      mine = Take(&group);
    }
    Run(mine);
  }
}

}  // namespace q8::server
