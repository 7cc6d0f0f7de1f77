// The Batcher with a fake model: concatenation and split, batch limits, the queue delay,
// a bounded queue, deadlines, draining on destruction, and the metrics it keeps.
#include "server/inference/batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "prometheus/text_serializer.h"

namespace q8::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(20);  // bound on every wait; never reached

// A model with two inputs, x float32 [N,W] and y int32 [N], and two outputs computed row
// by row: out0 = 2x + 1 (float32 [N,W]) and out1 = y + 1000 (int32 [N,1]). It records
// the rows and input addresses of every run, and can hold runs until released.
class FakeModel {
 public:
  BatchRunner Runner() {
    return [this](engine::RunContext&, absl::Span<const engine::TensorView> inputs) {
      return Run(inputs);
    };
  }

  // Runs wait until Open() (the first one, or any, once Close() was called).
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Waits until `n` runs have started.
  bool AwaitRuns(size_t n) {
    absl::MutexLock lock(&mu_);
    auto started = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return rows_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&started), kWait);
  }
  std::vector<int64_t> rows() {
    absl::MutexLock lock(&mu_);
    return rows_;
  }
  std::vector<const void*> x_data() {
    absl::MutexLock lock(&mu_);
    return x_data_;
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  void DropARow() {
    absl::MutexLock lock(&mu_);
    drop_a_row_ = true;
  }

 private:
  absl::StatusOr<std::vector<engine::Tensor>> Run(absl::Span<const engine::TensorView> inputs) {
    absl::MutexLock lock(&mu_);
    rows_.push_back(inputs[0].shape[0]);
    x_data_.push_back(inputs[0].data);
    mu_.Await(absl::Condition(&open_));
    if (!failure_.ok()) return failure_;
    const engine::TensorView& x = inputs[0];
    const engine::TensorView& y = inputs[1];
    engine::Shape out0_shape = x.shape;
    if (drop_a_row_) --out0_shape[0];
    engine::Tensor out0(engine::DType::kFloat32, out0_shape);
    for (int64_t i = 0; i < out0.num_elements(); ++i) {
      out0.data_as<float>()[i] = 2 * static_cast<const float*>(x.data)[i] + 1;
    }
    engine::Tensor out1(engine::DType::kInt32, {y.shape[0], 1});
    for (int64_t i = 0; i < y.shape[0]; ++i) {
      out1.data_as<int32_t>()[i] = static_cast<const int32_t*>(y.data)[i] + 1000;
    }
    std::vector<engine::Tensor> outputs;
    outputs.push_back(std::move(out0));
    outputs.push_back(std::move(out1));
    return outputs;
  }

  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  bool drop_a_row_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> rows_ ABSL_GUARDED_BY(mu_);
  std::vector<const void*> x_data_ ABSL_GUARDED_BY(mu_);
};

// One client: `rows` rows of width `width` with values unique to `id`, and its answer.
struct Call {
  Call(int id, int64_t rows, int64_t width = 2)
      : x(engine::DType::kFloat32, {rows, width}), y(engine::DType::kInt32, {rows}) {
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data_as<float>()[i] = id * 100.0f + i;
    for (int64_t r = 0; r < rows; ++r) y.data_as<int32_t>()[r] = id * 10 + static_cast<int>(r);
  }

  std::unique_ptr<BatchTask> Task(absl::Time deadline = absl::InfiniteFuture()) {
    auto task = std::make_unique<BatchTask>();
    task->inputs = {engine::TensorView{x.dtype(), x.shape(), x.data()},
                    engine::TensorView{y.dtype(), y.shape(), y.data()}};
    task->deadline = deadline;
    task->done = [this](absl::StatusOr<std::vector<engine::Tensor>> r) {
      result = std::move(r);
      answers.fetch_add(1);
      answered.Notify();
    };
    return task;
  }
  bool Wait() { return answered.WaitForNotificationWithTimeout(kWait); }

  // The answer holds exactly this call's rows of both outputs.
  void ExpectOwnRows() const {
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->size(), 2u);
    const engine::Tensor& out0 = (*result)[0];
    const engine::Tensor& out1 = (*result)[1];
    ASSERT_EQ(out0.shape(), x.shape());
    ASSERT_EQ(out1.shape(), (engine::Shape{y.shape()[0], 1}));
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      EXPECT_EQ(out0.data_as<float>()[i], 2 * x.data_as<float>()[i] + 1) << i;
    }
    for (int64_t r = 0; r < y.shape()[0]; ++r) {
      EXPECT_EQ(out1.data_as<int32_t>()[r], y.data_as<int32_t>()[r] + 1000) << r;
    }
  }

  engine::Tensor x;
  engine::Tensor y;
  absl::Notification answered;
  std::atomic<int> answers{0};
  absl::StatusOr<std::vector<engine::Tensor>> result = absl::UnknownError("not answered");
};

std::unique_ptr<Batcher> MakeBatcher(FakeModel& model, Batcher::Options options,
                                     QueueMetrics* metrics = nullptr) {
  options.name = "model 'fake' version 3";
  absl::StatusOr<std::unique_ptr<Batcher>> batcher =
      Batcher::Create(std::move(options), model.Runner(), metrics);
  EXPECT_TRUE(batcher.ok()) << batcher.status();
  return batcher.ok() ? *std::move(batcher) : nullptr;
}

Batcher::Options Batching(int64_t max_batch_size) {
  Batcher::Options options;
  options.max_batch_size = max_batch_size;
  return options;
}

// Regression: a run-time Reshape shape ([N, k] int64 with a symbolic N) passed the batch
// dimension check, and batching would have concatenated two requests' shape vectors.
TEST(CheckBatchableTest, AnInputWhoseValuesShapeThePlanCannotBeBatched) {
  auto tensor = [](std::string name, engine::DType dtype, engine::Shape shape) {
    engine::TensorInfo t;
    t.name = std::move(name);
    t.dtype = dtype;
    t.shape = std::move(shape);
    return t;
  };
  engine::ModelInfo info;
  info.inputs = {tensor("x", engine::DType::kFloat32, {-1, 24}),
                 tensor("shape", engine::DType::kInt64, {-1, 2})};
  info.outputs = {tensor("y", engine::DType::kFloat32, {-1, 24})};
  EXPECT_TRUE(CheckBatchable(info).ok());
  info.inputs[1].values_shape_the_plan = true;
  const absl::Status s = CheckBatchable(info);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("input 'shape'"));
}

TEST(BatcherTest, MixedBatchSizesAreJoinedAndEachCallerGetsItsOwnRows) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8));
  // The first call holds the only worker, so the next three queue up together.
  Call first(1, 1);
  model.Close();
  batcher->Submit(first.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call a(2, 1), b(3, 2), c(4, 3);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  batcher->Submit(c.Task());
  EXPECT_EQ(batcher->queued(), 3u);
  model.Open();
  for (Call* call : {&first, &a, &b, &c}) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
  EXPECT_THAT(model.rows(), ElementsAre(1, 6));
}

TEST(BatcherTest, BatchesNeverExceedMaxBatchSize) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(4));
  Call blocker(0, 1);
  model.Close();
  batcher->Submit(blocker.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  // 3 | 2+1+1 (full at 4) | 3+1 (full): a request that does not fit closes the batch.
  std::vector<std::unique_ptr<Call>> calls;
  for (int64_t rows : {3, 2, 1, 1, 3, 1}) {
    calls.push_back(std::make_unique<Call>(static_cast<int>(calls.size()) + 1, rows));
    batcher->Submit(calls.back()->Task());
  }
  model.Open();
  for (auto& call : calls) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
  EXPECT_THAT(model.rows(), ElementsAre(1, 3, 4, 4));
}

TEST(BatcherTest, ARequestLargerThanMaxBatchSizeIsRejectedUnrun) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(4));
  Call big(1, 5);
  batcher->Submit(big.Task());
  ASSERT_TRUE(big.answered.HasBeenNotified());  // answered inline, on this thread
  EXPECT_EQ(big.result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(big.result.status().message(),
              AllOf(HasSubstr("model 'fake' version 3"), HasSubstr("5 rows"),
                    HasSubstr("max_batch_size 4")));
  EXPECT_TRUE(model.rows().empty());
}

TEST(BatcherTest, TheQueueDelayFlushesAPartialBatch) {
  FakeModel model;
  Batcher::Options options = Batching(8);
  options.max_queue_delay = absl::Milliseconds(300);
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, options);
  const absl::Time start = absl::Now();
  Call a(1, 1), b(2, 2);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());  // well within the delay: joins a's batch
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  // The batch never filled (3 of 8 rows): the delay ran it, not before it was over.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  a.ExpectOwnRows();
  b.ExpectOwnRows();
  EXPECT_THAT(model.rows(), ElementsAre(3));
}

TEST(BatcherTest, AFullBatchDoesNotWaitForTheDelay) {
  FakeModel model;
  Batcher::Options options = Batching(2);
  options.max_queue_delay = absl::Seconds(60);
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, options);
  Call a(1, 1), b(2, 1);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  ASSERT_TRUE(a.Wait());  // long before the 60 s delay
  ASSERT_TRUE(b.Wait());
  a.ExpectOwnRows();
  b.ExpectOwnRows();
  EXPECT_THAT(model.rows(), ElementsAre(2));
}

TEST(BatcherTest, DifferentTrailingShapesRunInSeparateBatches) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8));
  Call blocker(0, 1);
  model.Close();
  batcher->Submit(blocker.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call narrow1(1, 1, 2), wide(2, 1, 3), narrow2(3, 2, 2);
  batcher->Submit(narrow1.Task());
  batcher->Submit(wide.Task());
  batcher->Submit(narrow2.Task());
  model.Open();
  for (Call* call : {&narrow1, &wide, &narrow2}) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
  // The two width-2 requests join across the width-3 one, in their own batch.
  EXPECT_THAT(model.rows(), ElementsAre(1, 3, 1));
}

TEST(BatcherTest, WithBatchingOffEachRequestRunsAloneOnItsOwnBuffers) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(0));
  Call blocker(0, 1);
  model.Close();
  batcher->Submit(blocker.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call a(1, 100), b(2, 3);  // any size when batching is off
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  model.Open();
  for (Call* call : {&a, &b}) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
  EXPECT_THAT(model.rows(), ElementsAre(1, 100, 3));
  // Not copied: the model read the callers' own buffers.
  EXPECT_THAT(model.x_data(), ElementsAre(blocker.x.data(), a.x.data(), b.x.data()));
}

TEST(BatcherTest, AFullQueueAnswersResourceExhausted) {
  FakeModel model;
  Batcher::Options options = Batching(8);
  options.max_queue_size = 2;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, options);
  Call running(0, 1);
  model.Close();
  batcher->Submit(running.Task());
  ASSERT_TRUE(model.AwaitRuns(1));  // taken off the queue: it no longer counts
  Call a(1, 1), b(2, 1), refused(3, 1);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  batcher->Submit(refused.Task());
  ASSERT_TRUE(refused.answered.HasBeenNotified());
  EXPECT_EQ(refused.result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.result.status().message(),
              AllOf(HasSubstr("model 'fake' version 3"), HasSubstr("queue is full"),
                    HasSubstr("2 requests waiting")));
  model.Open();
  for (Call* call : {&running, &a, &b}) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
  EXPECT_THAT(model.rows(), ElementsAre(1, 2));
}

TEST(BatcherTest, ARequestWhoseDeadlinePassedInTheQueueIsNotRun) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8));
  Call running(0, 1);
  model.Close();
  batcher->Submit(running.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call late(1, 2), patient(2, 1);
  batcher->Submit(late.Task(absl::Now() + absl::Milliseconds(20)));
  batcher->Submit(patient.Task());
  absl::SleepFor(absl::Milliseconds(60));  // past `late`'s deadline while it waits
  model.Open();
  ASSERT_TRUE(late.Wait());
  ASSERT_TRUE(patient.Wait());
  EXPECT_EQ(late.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(late.result.status().message(), HasSubstr("not run"));
  patient.ExpectOwnRows();
  // The model saw only `running` and `patient`'s single row, never `late`'s two.
  EXPECT_THAT(model.rows(), ElementsAre(1, 1));
}

TEST(BatcherTest, ADeadlineAlreadyPastIsAnsweredAtOnce) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(0));
  Call late(1, 1);
  batcher->Submit(late.Task(absl::Now() - absl::Milliseconds(1)));
  ASSERT_TRUE(late.answered.HasBeenNotified());
  EXPECT_EQ(late.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(model.rows().empty());
}

TEST(BatcherTest, AModelErrorReachesEveryRequestOfTheBatch) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8));
  Call blocker(0, 1);
  model.Close();
  batcher->Submit(blocker.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call a(1, 1), b(2, 2);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  model.FailWith(absl::InternalError("engine broke"));
  model.Open();
  for (Call* call : {&blocker, &a, &b}) {
    ASSERT_TRUE(call->Wait());
    EXPECT_EQ(call->result.status().message(), "engine broke");
    EXPECT_EQ(call->answers.load(), 1);
  }
}

TEST(BatcherTest, AnOutputWithoutTheBatchRowsCannotBeSplit) {
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8));
  Call blocker(0, 1);
  model.Close();
  batcher->Submit(blocker.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  model.DropARow();
  Call a(1, 1), b(2, 2);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  model.Open();
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  for (Call* call : {&a, &b}) {
    EXPECT_EQ(call->result.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(call->result.status().message(),
                AllOf(HasSubstr("output 0 has shape [2,2] for a batch of 3 rows"),
                      HasSubstr("cannot be split")));
  }
}

TEST(BatcherTest, DestructionRunsWhatIsQueuedThenJoins) {
  FakeModel model;
  Batcher::Options options = Batching(2);
  options.max_queue_delay = absl::Seconds(60);  // draining must not wait for it
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, options);
  Call running(0, 2);  // a full batch: runs at once
  model.Close();
  batcher->Submit(running.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call a(1, 1), b(2, 2), c(3, 1);  // a | b (a full batch) | c, which waits for company
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  batcher->Submit(c.Task());
  std::thread destroyer([&] { batcher.reset(); });
  model.Open();
  destroyer.join();  // returns only once every queued request has been answered
  for (Call* call : {&running, &a, &b, &c}) {
    EXPECT_TRUE(call->answered.HasBeenNotified());
    call->ExpectOwnRows();
  }
  EXPECT_THAT(model.rows(), ElementsAre(2, 1, 2, 1));
}

TEST(BatcherTest, TheLastAnswerMayDestroyTheBatcherFromItsOwnWorker) {
  // As when a task holds the last reference to an unloaded servable.
  FakeModel model;
  std::shared_ptr<Batcher> batcher = MakeBatcher(model, Batching(0));
  Call call(1, 1);
  std::unique_ptr<BatchTask> task = call.Task();
  absl::Notification destroyed;
  task->done = [&call, &destroyed,
                owner = batcher](absl::StatusOr<std::vector<engine::Tensor>> r) mutable {
    call.result = std::move(r);
    owner.reset();  // the last reference: ~Batcher runs on this worker
    destroyed.Notify();
  };
  Batcher* raw = batcher.get();
  batcher.reset();
  raw->Submit(std::move(task));
  ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(kWait));
  call.ExpectOwnRows();
}

TEST(BatcherTest, SeveralWorkersServeOneQueue) {
  FakeModel model;
  Batcher::Options options = Batching(0);
  options.workers = 3;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, options);
  model.Close();
  Call a(1, 1), b(2, 1), c(3, 1);
  for (Call* call : {&a, &b, &c}) batcher->Submit(call->Task());
  ASSERT_TRUE(model.AwaitRuns(3));  // all three run at once
  model.Open();
  for (Call* call : {&a, &b, &c}) {
    ASSERT_TRUE(call->Wait());
    call->ExpectOwnRows();
  }
}

TEST(BatcherTest, RecordsQueueTimeBatchSizeComputeTimeAndDepth) {
  Metrics metrics;
  QueueMetrics* handles = metrics.ForQueue("fake", 3);
  FakeModel model;
  std::unique_ptr<Batcher> batcher = MakeBatcher(model, Batching(8), handles);
  Call first(1, 1);
  model.Close();
  batcher->Submit(first.Task());
  ASSERT_TRUE(model.AwaitRuns(1));
  Call a(2, 2), b(3, 3);
  batcher->Submit(a.Task());
  batcher->Submit(b.Task());
  const std::string queued = prometheus::TextSerializer().Serialize(metrics.registry().Collect());
  EXPECT_THAT(queued, HasSubstr("q8serve_queue_depth{model=\"fake\",version=\"3\"} 2"));
  model.Open();
  for (Call* call : {&first, &a, &b}) ASSERT_TRUE(call->Wait());
  batcher.reset();  // joined: every observation is made
  const std::string text = prometheus::TextSerializer().Serialize(metrics.registry().Collect());
  EXPECT_THAT(text, HasSubstr("q8serve_batch_size_count{model=\"fake\",version=\"3\"} 2"));
  EXPECT_THAT(text, HasSubstr("q8serve_batch_size_sum{model=\"fake\",version=\"3\"} 6"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_batch_size_bucket{model=\"fake\",version=\"3\",le=\"1\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_batch_size_bucket{model=\"fake\",version=\"3\",le=\"4\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_batch_size_bucket{model=\"fake\",version=\"3\",le=\"8\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_compute_duration_seconds_count{model=\"fake\",version=\"3\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_queue_duration_seconds_count{model=\"fake\",version=\"3\"} 3"));
  EXPECT_THAT(text, HasSubstr("q8serve_queue_depth{model=\"fake\",version=\"3\"} 0"));
}

}  // namespace
}  // namespace q8::server
