// Batcher: the request queue of one servable and the worker threads that run it.
//
// Request threads Submit tasks whose engine inputs are already validated and converted;
// workers take batches off the queue and run them through a BatchRunner (the model's
// Run). Each worker owns one engine::RunContext for its whole life, so a run never waits
// for a context and no lock is shared between servables.
//
// With batching on (max_batch_size > 1), queued tasks whose inputs agree in count, dtype,
// rank and every dimension after the first are concatenated along dimension 0 into one
// run of at most max_batch_size rows, and each output is split back by rows: every task
// gets exactly its own rows. Tasks are grouped in arrival order (TF Serving's basic batch
// scheduler): a task joins the open batch of its shape if it fits, otherwise that batch
// is closed and a new one opens. A batch runs when it is full or closed, or once its
// first task has waited max_queue_delay (at once with the default delay of 0: then
// batches form only from requests that queued while every worker was busy). No padding:
// a batch of 5 rows runs as 5 rows.
//
// With batching off, every task runs alone and unchanged (no copy), still on a worker:
// request threads only decode and validate.
//
// Errors, each reported through the task's `done` and never by running it:
//  - INVALID_ARGUMENT at Submit: batching on and the task has more rows than
//    max_batch_size (TF Serving rejects such a task the same way);
//  - RESOURCE_EXHAUSTED at Submit: max_queue_size tasks are already waiting;
//  - DEADLINE_EXCEEDED at Submit or when its batch is taken: the task's deadline passed.
//
// Thread-safety: Submit may be called from any thread. The destructor lets the workers
// finish what is queued, then joins them; it may run on a worker (when a task's `done`
// drops the last reference to the object owning the Batcher), in which case that worker
// is detached and exits as soon as its current batch is done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/engine.h"
#include "server/metrics/metrics.h"

namespace q8::server {

// The call a worker makes for a batch: engine::Model::Run's shape, so tests can pass a
// fake. Called concurrently from different workers, each with its own context.
using BatchRunner = std::function<absl::StatusOr<std::vector<engine::Tensor>>(
    engine::RunContext&, absl::Span<const engine::TensorView>)>;

// One request's share of a run.
struct BatchTask {
  // Engine inputs in run order. What they point to must stay valid until `done` has
  // run (typically `done` owns it).
  std::vector<engine::TensorView> inputs;
  // The client's deadline; a task still queued when it passes is answered with
  // DEADLINE_EXCEEDED and not run.
  absl::Time deadline = absl::InfiniteFuture();
  // Called exactly once with this task's rows of every output (or the error): on a worker
  // thread, or on the submitting thread when Submit rejects the task. Destroyed right
  // after it returns.
  absl::AnyInvocable<void(absl::StatusOr<std::vector<engine::Tensor>>) &&> done;
};

class Batcher {
 public:
  struct Options {
    // Names the queue in error messages, e.g. "model 'digits' version 1".
    std::string name = "model";
    // Largest batch in rows (dimension 0). 0 or 1: no batching, each task runs alone
    // whatever its size. Larger batches amortise per-run overhead and use wider matrix
    // kernels; they cost the latency of waiting for the batch and of running it.
    int64_t max_batch_size = 0;
    // How long the first task of a batch may wait for more (batching only). 0: never
    // wait; batches form only from what queued while the workers were busy.
    absl::Duration max_queue_delay = absl::ZeroDuration();
    // Tasks that may wait at once; beyond it Submit answers RESOURCE_EXHAUSTED. Bounds
    // memory and the latency a client can be made to wait; 0 reads as 1.
    size_t max_queue_size = 1024;
    // Worker threads, each running one batch at a time with its own RunContext. 0 reads
    // as 1. More workers run more batches at once; with the engine's threads per run,
    // workers × threads should not exceed the cores.
    int workers = 1;
  };

  // INVALID_ARGUMENT for a null runner. `metrics` may be null; it must outlive the
  // Batcher's workers (a Metrics outlives every servable).
  static absl::StatusOr<std::unique_ptr<Batcher>> Create(Options options, BatchRunner runner,
                                                         QueueMetrics* metrics);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `task` (or answers it at once, see the errors above). Never blocks on a run.
  void Submit(std::unique_ptr<BatchTask> task);

  // Tasks waiting now (not yet taken by a worker). For tests and metrics.
  size_t queued() const;
  const Options& options() const;

  struct Core;  // queue and runner, shared with the worker threads (batcher.cc)

 private:
  explicit Batcher(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  const std::shared_ptr<Core> core_;
  std::vector<std::thread> workers_;
};

// FAILED_PRECONDITION ("batching needs a run-time first (batch) dimension ...", naming
// the tensor and its shape) unless every input and output of `info` has a run-time first
// dimension: the only kind rows can be concatenated along and split back from.
absl::Status CheckBatchable(const engine::ModelInfo& info);

}  // namespace q8::server
