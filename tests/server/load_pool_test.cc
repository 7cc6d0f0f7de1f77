// The load pool on its own: every task runs, the caller takes part, at most N run at once,
// and groups nested inside tasks (a model's reload running its versions' loads) finish
// for any pool size, one thread included.
#include "server/repository/load_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace q8::server {
namespace {

using ::testing::ElementsAre;

TEST(LoadPoolTest, RunAllReturnsOnceEveryTaskHasRun) {
  LoadPool pool(2);
  EXPECT_EQ(pool.threads(), 2);
  std::vector<int> ran(50, 0);
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 50; ++i) tasks.push_back([&ran, i] { ++ran[i]; });
  pool.RunAll(std::move(tasks));
  EXPECT_EQ(std::count(ran.begin(), ran.end(), 1), 50) << "each task exactly once";
  pool.RunAll({});  // nothing to do: returns
}

TEST(LoadPoolTest, OneThreadRunsEverythingOnTheCallerInOrder) {
  LoadPool pool(0);  // below 1 counts as 1
  EXPECT_EQ(pool.threads(), 1);
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.push_back([&, i] {
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  }
  pool.RunAll(std::move(tasks));
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3));
  for (std::thread::id id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

// Each task waits (bounded) until `meet` tasks run at once, then records how many did.
class Overlap {
 public:
  explicit Overlap(int meet) : meet_(meet) {}
  void Task() {
    absl::MutexLock lock(&mu_);
    ++running_;
    ++started_;
    max_running_ = std::max(max_running_, running_);
    auto met = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_ >= meet_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&met), absl::Seconds(20))) ++timeouts_;
    --running_;
  }
  int max_running() {
    absl::MutexLock lock(&mu_);
    return max_running_;
  }
  int timeouts() {
    absl::MutexLock lock(&mu_);
    return timeouts_;
  }

 private:
  const int meet_;
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  int max_running_ ABSL_GUARDED_BY(mu_) = 0;
  int timeouts_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(LoadPoolTest, RunsAsManyTasksAtOnceAsItHasThreadsAndNoMore) {
  LoadPool pool(2);
  Overlap overlap(/*meet=*/2);
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back([&] { overlap.Task(); });
  pool.RunAll(std::move(tasks));
  EXPECT_EQ(overlap.timeouts(), 0) << "the first two tasks never ran at once";
  EXPECT_EQ(overlap.max_running(), 2) << "the caller and one worker: never more";
}

TEST(LoadPoolTest, NestedGroupsFinishForEveryPoolSize) {
  for (int threads : {1, 2, 3}) {
    LoadPool pool(threads);
    std::atomic<int> inner{0};
    std::vector<std::function<void()>> outer;
    for (int m = 0; m < 4; ++m) {
      outer.push_back([&] {
        std::vector<std::function<void()>> versions;
        for (int v = 0; v < 3; ++v) versions.push_back([&] { ++inner; });
        pool.RunAll(std::move(versions));  // from inside a task of the same pool
      });
    }
    pool.RunAll(std::move(outer));
    EXPECT_EQ(inner.load(), 12) << threads << " thread(s)";
  }
}

TEST(LoadPoolTest, InnerTasksOfTwoOuterTasksRunAtOnce) {
  // Two models, one version each: the versions' loads (inner tasks) overlap.
  LoadPool pool(2);
  Overlap overlap(/*meet=*/2);
  std::vector<std::function<void()>> outer;
  for (int m = 0; m < 2; ++m) {
    outer.push_back([&] { pool.RunAll({[&] { overlap.Task(); }}); });
  }
  pool.RunAll(std::move(outer));
  EXPECT_EQ(overlap.timeouts(), 0);
  EXPECT_EQ(overlap.max_running(), 2);
}

}  // namespace
}  // namespace q8::server
