// The model repository's load pool: the threads that load model versions (engine import,
// compile, weight packing, warm-up runs), so loads never run on request threads and
// several run at once (--load-threads).
//
// RunAll(tasks) runs one group of tasks and returns when every one of them has finished.
// The calling thread takes part: while its group has tasks no worker has taken yet, it
// runs them itself, so a pool of N threads has N - 1 workers, and N = 1 runs every task
// on the calling thread, in order. A task may call RunAll too (a model's reload runs its
// versions' loads as a group): it then works through its own group first, and only waits
// for tasks already running elsewhere. Since every waiting thread still has its own
// unstarted tasks to run, nested groups cannot deadlock for any N.
//
// Concurrency bound: at most N tasks run at once per thread that calls RunAll from
// outside the pool (the repository has one such thread: its reload thread).
//
// Thread-safety: thread-safe. Tasks must not throw. The destructor joins the workers; no
// RunAll may be in progress then.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace q8::server {

class LoadPool {
 public:
  // `threads` below 1 counts as 1.
  explicit LoadPool(int threads);
  ~LoadPool();
  LoadPool(const LoadPool&) = delete;
  LoadPool& operator=(const LoadPool&) = delete;

  // Tasks that may run at once, the calling thread included.
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs every task (on the workers and the calling thread; in no particular order when
  // threads() > 1) and returns once all have finished.
  void RunAll(std::vector<std::function<void()>> tasks);

 private:
  struct Group;
  struct Task {
    std::function<void()> run;
    Group* group = nullptr;
  };
  struct Group {
    int unfinished = 0;  // guarded by the pool's mu_
  };

  void WorkLoop();
  // The next queued task (of `group`, or of any group when null), removed from the
  // queue; null when there is none.
  Task* Take(const Group* group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasQueued(const Group* group) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run(Task* task) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  // Tasks not taken yet, oldest first; each points into the vector of the RunAll call
  // that queued it, which stays alive until its group is finished.
  std::deque<Task*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::vector<std::thread> workers_;  // started by the constructor, joined by the destructor
};

}  // namespace q8::server
