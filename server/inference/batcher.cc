#include "server/inference/batcher.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace q8::server {
namespace {

// What tasks must share to be concatenated: per input its dtype, rank and the dims after
// the first. Empty for a task that cannot join any batch (a scalar input, or inputs that
// disagree on their number of rows).
using ShapeKey = std::vector<int64_t>;

struct Sizing {
  int64_t rows = 0;  // dimension 0 shared by every input; 0 when unbatchable
  ShapeKey key;
};

Sizing SizingOf(absl::Span<const engine::TensorView> inputs) {
  Sizing sizing;
  if (inputs.empty()) return sizing;
  for (const engine::TensorView& in : inputs) {
    if (in.shape.empty() || (sizing.rows != 0 && in.shape[0] != sizing.rows)) return Sizing{};
    sizing.rows = in.shape[0];
  }
  for (const engine::TensorView& in : inputs) {
    sizing.key.push_back(static_cast<int64_t>(in.dtype));
    sizing.key.push_back(static_cast<int64_t>(in.shape.size()));
    sizing.key.insert(sizing.key.end(), in.shape.begin() + 1, in.shape.end());
  }
  return sizing;
}

size_t ByteSize(const engine::TensorView& view) {
  return static_cast<size_t>(engine::NumElements(view.shape)) * engine::DTypeSize(view.dtype);
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

struct Batcher::Core {
  struct Pending {
    std::unique_ptr<BatchTask> task;
    absl::Time enqueued;
    int64_t rows = 0;
  };
  // Tasks that will run together, in arrival order.
  struct Batch {
    ShapeKey key;  // empty: this batch holds one task that runs alone
    std::vector<Pending> tasks;
    int64_t rows = 0;
    absl::Time opened;
    bool closed = false;  // takes no more tasks; runs as soon as a worker is free
  };

  Core(Options o, BatchRunner r, QueueMetrics* m)
      : options(std::move(o)), runner(std::move(r)), metrics(m) {}

  bool batching() const { return options.max_batch_size > 1; }

  void Submit(std::unique_ptr<BatchTask> task);
  void WorkerLoop();
  // Waits for the next batch to run; false when stopping with nothing left.
  bool NextBatch(Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void RunBatch(engine::RunContext& context, Batch& batch);

  void Close(Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!batch.closed) ++closed_batches;
    batch.closed = true;
  }
  bool HasWorkOrStopping() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return stopping || !queue.empty();
  }
  bool HasClosedOrStopping() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return stopping || closed_batches > 0;
  }

  const Options options;
  const BatchRunner runner;
  QueueMetrics* const metrics;

  mutable absl::Mutex mu;
  std::deque<Batch> queue ABSL_GUARDED_BY(mu);
  size_t queued_tasks ABSL_GUARDED_BY(mu) = 0;
  size_t closed_batches ABSL_GUARDED_BY(mu) = 0;  // closed batches in `queue`
  bool stopping ABSL_GUARDED_BY(mu) = false;
};

namespace {

// Answers a task once; its `done` (and whatever it owns) is destroyed right after.
void Answer(BatchTask& task, absl::StatusOr<std::vector<engine::Tensor>> result) {
  auto done = std::move(task.done);
  task.done = nullptr;
  std::move(done)(std::move(result));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Batcher>> Batcher::Create(Options options, BatchRunner runner,
                                                         QueueMetrics* metrics) {
  if (runner == nullptr) return absl::InvalidArgumentError("Batcher needs a runner");
  options.workers = std::max(options.workers, 1);
  options.max_queue_size = std::max<size_t>(options.max_queue_size, 1);
  if (options.max_queue_delay < absl::ZeroDuration()) {
    options.max_queue_delay = absl::ZeroDuration();
  }
  auto core = std::make_shared<Core>(std::move(options), std::move(runner), metrics);
  std::unique_ptr<Batcher> batcher(new Batcher(core));
  for (int i = 0; i < core->options.workers; ++i) {
    // Each worker holds the Core, so a worker that outlives the Batcher (see the
    // destructor) still finds its queue.
    batcher->workers_.emplace_back([core] { core->WorkerLoop(); });
  }
  return batcher;
}

Batcher::~Batcher() {
  {
    absl::MutexLock lock(&core_->mu);
    core_->stopping = true;
  }
  for (std::thread& worker : workers_) {
    // A worker runs this destructor when the task it just answered held the last
    // reference to our owner: it cannot join itself, and exits on its own once it is
    // back in its loop (it touches only the Core, which it co-owns).
    if (worker.get_id() == std::this_thread::get_id()) {
      worker.detach();
    } else {
      worker.join();
    }
  }
}

size_t Batcher::queued() const {
  absl::MutexLock lock(&core_->mu);
  return core_->queued_tasks;
}

const Batcher::Options& Batcher::options() const { return core_->options; }

void Batcher::Submit(std::unique_ptr<BatchTask> task) { core_->Submit(std::move(task)); }

void Batcher::Core::Submit(std::unique_ptr<BatchTask> task) {
  const Sizing sizing = batching() ? SizingOf(task->inputs) : Sizing{};
  if (batching() && sizing.rows > options.max_batch_size) {
    Answer(*task, absl::InvalidArgumentError(absl::StrCat(
                      options.name, ": the request has ", sizing.rows,
                      " rows (dimension 0), more than batching.max_batch_size ",
                      options.max_batch_size, "; send at most ", options.max_batch_size,
                      " rows per request or raise max_batch_size in the model's config.pbtxt")));
    return;
  }
  const absl::Time now = absl::Now();
  if (task->deadline <= now) {
    Answer(*task, absl::DeadlineExceededError(absl::StrCat(
                      options.name, ": the client deadline passed before the request was queued")));
    return;
  }
  {
    absl::MutexLock lock(&mu);
    if (queued_tasks < options.max_queue_size) {
      Pending pending{std::move(task), now, sizing.rows};
      Batch* target = nullptr;
      if (!sizing.key.empty()) {
        // Only the newest batch of a shape can be open (a new one opens when it closes).
        for (auto it = queue.rbegin(); it != queue.rend(); ++it) {
          if (it->key != sizing.key) continue;
          if (!it->closed) {
            if (it->rows + sizing.rows <= options.max_batch_size) {
              target = &*it;
            } else {
              Close(*it);  // full for this task: it runs as it is, this task starts the next
            }
          }
          break;
        }
      }
      if (target == nullptr) {
        queue.push_back(Batch{sizing.key, {}, 0, now, false});
        target = &queue.back();
        if (sizing.key.empty()) Close(*target);  // runs alone
      }
      target->rows += sizing.rows;
      target->tasks.push_back(std::move(pending));
      if (!target->key.empty() && target->rows >= options.max_batch_size) Close(*target);
      ++queued_tasks;
      if (metrics != nullptr) metrics->AddQueueDepth(1);
      return;
    }
  }
  Answer(*task, absl::ResourceExhaustedError(absl::StrCat(
                    options.name, ": the request queue is full (", options.max_queue_size,
                    " requests waiting, batching.max_queue_size ", options.max_queue_size,
                    "); retry later, add workers (instances.workers) or raise max_queue_size")));
}

bool Batcher::Core::NextBatch(Batch* out) {
  for (;;) {
    if (queue.empty()) {
      if (stopping) return false;
      mu.Await(absl::Condition(this, &Core::HasWorkOrStopping));
      continue;
    }
    // The first closed batch, else the oldest open one once its delay is over (or at
    // once when stopping: drain without waiting for company that will not come).
    auto ready = std::find_if(queue.begin(), queue.end(), [](const Batch& b) { return b.closed; });
    const absl::Time flush_at = queue.front().opened + options.max_queue_delay;
    if (ready == queue.end() && (stopping || flush_at <= absl::Now())) ready = queue.begin();
    if (ready != queue.end()) {
      if (ready->closed) --closed_batches;
      *out = std::move(*ready);
      queue.erase(ready);
      queued_tasks -= out->tasks.size();
      if (metrics != nullptr) metrics->SubtractQueueDepth(static_cast<double>(out->tasks.size()));
      return true;
    }
    mu.AwaitWithDeadline(absl::Condition(this, &Core::HasClosedOrStopping), flush_at);
  }
}

void Batcher::Core::WorkerLoop() {
  engine::RunContext context;  // this worker's for its whole life
  for (;;) {
    Batch batch;
    {
      absl::MutexLock lock(&mu);
      if (!NextBatch(&batch)) return;
    }
    RunBatch(context, batch);
    // `batch` (every task's inputs and captures) is gone before the next wait.
  }
}

void Batcher::Core::RunBatch(engine::RunContext& context, Batch& batch) {
  const absl::Time taken = absl::Now();
  std::vector<Pending*> live;
  int64_t rows = 0;
  for (Pending& p : batch.tasks) {
    if (metrics != nullptr) metrics->ObserveQueueTime(Seconds(taken - p.enqueued));
    if (p.task->deadline <= taken) {
      Answer(*p.task, absl::DeadlineExceededError(
                          absl::StrCat(options.name, ": the client deadline passed after ",
                                       absl::ToInt64Milliseconds(taken - p.enqueued),
                                       " ms in the queue; the request was not run")));
      continue;
    }
    live.push_back(&p);
    rows += p.rows;
  }
  if (live.empty()) return;

  auto fail_all = [&](const absl::Status& status) {
    for (Pending* p : live) {
      if (p->task->done != nullptr) Answer(*p->task, status);
    }
  };
  // Exceptions stop here (a worker thread has no one above it to catch them): an
  // allocation failure of a large batch fails that batch, not the server.
  try {
    if (live.size() == 1) {
      // Alone (batching off, or nothing to join): the inputs run as sent, no copies.
      BatchTask& task = *live[0]->task;
      const absl::Time start = absl::Now();
      absl::StatusOr<std::vector<engine::Tensor>> result = runner(context, task.inputs);
      if (metrics != nullptr) {
        const int64_t batch_rows =
            task.inputs.empty() || task.inputs[0].shape.empty() ? 1 : task.inputs[0].shape[0];
        metrics->ObserveBatch(batch_rows, Seconds(absl::Now() - start));
      }
      Answer(task, std::move(result));
      return;
    }

    // Concatenate along dimension 0: every task's inputs share dtype and trailing dims.
    const std::vector<engine::TensorView>& first = live[0]->task->inputs;
    std::vector<engine::Tensor> joined;
    std::vector<engine::TensorView> views;
    joined.reserve(first.size());
    for (size_t i = 0; i < first.size(); ++i) {
      engine::Shape shape = first[i].shape;
      shape[0] = rows;
      engine::Tensor t = engine::Tensor::Uninitialized(first[i].dtype, shape);
      char* at = static_cast<char*>(t.data());
      for (const Pending* p : live) {
        const size_t n = ByteSize(p->task->inputs[i]);
        if (n > 0) std::memcpy(at, p->task->inputs[i].data, n);
        at += n;
      }
      views.push_back(engine::TensorView{t.dtype(), t.shape(), t.data()});
      joined.push_back(std::move(t));
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<std::vector<engine::Tensor>> result = runner(context, views);
    if (metrics != nullptr) metrics->ObserveBatch(rows, Seconds(absl::Now() - start));
    if (!result.ok()) {
      fail_all(result.status());
      return;
    }
    for (size_t o = 0; o < result->size(); ++o) {
      const engine::Tensor& out = (*result)[o];
      if (out.shape().empty() || out.shape()[0] != rows) {
        fail_all(absl::InternalError(absl::StrCat(
            options.name, ": output ", o, " has shape ", engine::ShapeToString(out.shape()),
            " for a batch of ", rows,
            " rows, so it cannot be split back into requests; disable batching for this model")));
        return;
      }
    }
    // Split by rows: task k gets rows [offset_k, offset_k + rows_k) of every output.
    int64_t offset = 0;
    for (Pending* p : live) {
      const int64_t own = p->rows;
      std::vector<engine::Tensor> mine;
      mine.reserve(result->size());
      for (const engine::Tensor& out : *result) {
        engine::Shape shape = out.shape();
        shape[0] = own;
        engine::Tensor part = engine::Tensor::Uninitialized(out.dtype(), shape);
        const size_t row_bytes = out.byte_size() / static_cast<size_t>(rows);
        if (part.byte_size() > 0) {
          std::memcpy(part.data(), static_cast<const char*>(out.data()) + offset * row_bytes,
                      part.byte_size());
        }
        mine.push_back(std::move(part));
      }
      offset += own;
      Answer(*p->task, std::move(mine));
    }
  } catch (const std::bad_alloc&) {
    fail_all(absl::ResourceExhaustedError(
        absl::StrCat(options.name, ": out of memory running a batch of ", rows, " rows")));
  } catch (const std::exception& e) {
    fail_all(absl::InternalError(absl::StrCat(options.name, ": unexpected error: ", e.what())));
  }
}

absl::Status CheckBatchable(const engine::ModelInfo& info) {
  auto check = [](const std::vector<engine::TensorInfo>& tensors,
                  const char* kind) -> absl::Status {
    for (const engine::TensorInfo& t : tensors) {
      if (t.shape.empty() || t.shape[0] >= 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "batching needs a run-time first (batch) dimension on every input and output; ", kind,
            " '", t.name, "' has shape ", engine::ShapeToString(t.shape),
            "; remove the batching block from config.pbtxt or export the model with a "
            "symbolic batch dimension"));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check(info.inputs, "input"); !s.ok()) return s;
  for (const engine::TensorInfo& t : info.inputs) {
    if (t.values_shape_the_plan) {
      return absl::FailedPreconditionError(absl::StrCat(
          "batching concatenates inputs along dimension 0, but input '", t.name, "' ",
          engine::ShapeToString(t.shape),
          " holds shape values the model computes with (a run-time Reshape shape or axes), "
          "which two requests' rows cannot share; remove the batching block from config.pbtxt "
          "or make that input a constant of the model"));
    }
  }
  return check(info.outputs, "output");
}

}  // namespace q8::server
