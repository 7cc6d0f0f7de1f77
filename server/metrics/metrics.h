// Prometheus metrics of the server.
//
// Metrics owns the registry (the one mutable global the server has; Server creates it
// and hands it down, nothing reaches it through a static) and the process metrics;
// Collectables() is what the HTTP endpoint (http_endpoint.h) exposes on GET /metrics.
//
// Families:
//   q8serve_requests_total{model,version,signature,api,status}  counter
//   q8serve_request_duration_seconds{model,version,api}         histogram, every request
//   q8serve_requests_in_flight{model}                           gauge
//   q8serve_model_load_duration_seconds{model,version}          gauge
//   q8serve_model_state{model,version,state}                    gauge, 1 for the current state
//   q8serve_model_load_failures_total{model,version}            counter
//   q8serve_queue_duration_seconds{model,version}               histogram, enqueue → batch taken
//   q8serve_compute_duration_seconds{model,version}             histogram, one model run per batch
//   q8serve_batch_size{model,version}                           histogram, rows per model run
//   q8serve_queue_depth{model,version}                          gauge, requests waiting
//   process_* (process_metrics.h)
// Labels a client could choose freely (an unknown model, version or signature) are
// recorded as "", so no client can grow the metric set without bound.
//
// Thread-safety: every method is thread-safe (prometheus-cpp metrics are atomic and
// families lock on Add). ModelMetrics handles are made once per model version at load,
// so the success path of a request never looks a metric up by its labels; so are the
// QueueMetrics of each version's request queue (server/inference/batcher.h).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/metrics/process_metrics.h"
#include "server/repository/version_state.h"

namespace q8::server {

// Which wire API a request came in through (the `api` label).
enum class Api { kTfServing = 0, kKServe = 1 };
inline constexpr int kNumApis = 2;
// "tfserving" / "kserve".
absl::string_view ApiName(Api api);

class Metrics;

// Request metric handles of one model version with one set of signatures. Owned by
// Metrics (stable address for Metrics' lifetime); thread-safe.
class ModelMetrics {
 public:
  // A request reached this model: q8serve_requests_in_flight{model} + 1. Each call must
  // be matched by exactly one RecordRequest when the request ends.
  void RequestStarted();
  // Counts one finished request (OK or not) under the signature that answered it ("" if
  // none matched), observes its duration and ends its in-flight count.
  void RecordRequest(Api api, absl::string_view signature, absl::StatusCode code, double seconds);

 private:
  friend class Metrics;
  struct SignatureHandles {
    std::string signature;
    std::array<prometheus::Counter*, kNumApis> ok{};  // indexed by Api
  };

  Metrics* metrics_ = nullptr;
  std::string model_;
  std::string version_;
  // Hot-path handles, constant after ForModel: one entry per signature (a model has a
  // handful, so a scan beats a map).
  std::vector<SignatureHandles> signatures_;
  std::array<prometheus::Histogram*, kNumApis> duration_{};  // indexed by Api
  prometheus::Gauge* in_flight_ = nullptr;
};

// Queue and batching handles of one model version's Batcher. Owned by Metrics (stable
// address for Metrics' lifetime); thread-safe.
class QueueMetrics {
 public:
  // Time a request waited between Submit and a worker taking its batch.
  void ObserveQueueTime(double seconds) { queue_duration_->Observe(seconds); }
  // One model run: its rows (the batch size) and how long the run took.
  void ObserveBatch(int64_t rows, double compute_seconds) {
    batch_size_->Observe(static_cast<double>(rows));
    compute_duration_->Observe(compute_seconds);
  }
  // Requests entering / leaving the queue. Increments rather than a Set, so the two
  // servables of a reloaded version (the old one draining) add up in one gauge.
  void AddQueueDepth(double requests) { queue_depth_->Increment(requests); }
  void SubtractQueueDepth(double requests) { queue_depth_->Decrement(requests); }

 private:
  friend class Metrics;
  prometheus::Histogram* queue_duration_ = nullptr;
  prometheus::Histogram* compute_duration_ = nullptr;
  prometheus::Histogram* batch_size_ = nullptr;
  prometheus::Gauge* queue_depth_ = nullptr;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Everything GET /metrics exposes: the registry and the process metrics.
  std::vector<std::shared_ptr<prometheus::Collectable>> Collectables() const;

  // Handles for one model version serving `signatures` (its signature names), created on
  // first call for that combination; the pointer stays valid for the lifetime of this
  // Metrics.
  ModelMetrics* ForModel(absl::string_view model, int64_t version,
                         const std::vector<std::string>& signatures);

  // Queue handles for one model version, created on first call; the pointer stays valid
  // for the lifetime of this Metrics.
  QueueMetrics* ForQueue(absl::string_view model, int64_t version);

  // A request that never reached a servable (unknown model or version, or rejected by
  // a codec before the model was known). `model`/`version` may be empty.
  void RecordUnmatchedRequest(absl::string_view model, absl::string_view version, Api api,
                              absl::StatusCode code, double seconds);

  // Sets q8serve_model_state to 1 for `state` and 0 for the other states.
  void SetModelState(absl::string_view model, int64_t version, VersionState state);
  void RecordModelLoad(absl::string_view model, int64_t version, double seconds);
  // `version` 0: the model as a whole failed (its config.pbtxt), labelled version="".
  void RecordModelLoadFailure(absl::string_view model, int64_t version);

  prometheus::Registry& registry() { return *registry_; }

  // Sums of q8serve_requests_total so far: every inference request, and the OK ones
  // (what main logs at exit).
  struct RequestTotals {
    int64_t all = 0;
    int64_t ok = 0;
  };
  RequestTotals CountRequests() const;

 private:
  friend class ModelMetrics;
  void RecordRequestSlow(absl::string_view model, absl::string_view version,
                         absl::string_view signature, Api api, absl::StatusCode code);

  const std::shared_ptr<prometheus::Registry> registry_;
  // Families live inside registry_; these pointers are constant after construction.
  prometheus::Family<prometheus::Counter>* const requests_;
  prometheus::Family<prometheus::Histogram>* const request_duration_;
  prometheus::Family<prometheus::Gauge>* const in_flight_;
  prometheus::Family<prometheus::Gauge>* const load_duration_;
  prometheus::Family<prometheus::Gauge>* const model_state_;
  prometheus::Family<prometheus::Counter>* const load_failures_;

  // Request queues and batching (ForQueue); constant after construction.
  prometheus::Family<prometheus::Histogram>* const queue_duration_;
  prometheus::Family<prometheus::Histogram>* const compute_duration_;
  prometheus::Family<prometheus::Histogram>* const batch_size_;
  prometheus::Family<prometheus::Gauge>* const queue_depth_;

  const std::shared_ptr<ProcessMetrics> process_;

  absl::Mutex mu_;
  // Keyed by "model\0version\0signature..."; node-based so handles keep their address.
  std::map<std::string, std::unique_ptr<ModelMetrics>, std::less<>> models_ ABSL_GUARDED_BY(mu_);
  // Keyed by "model\0version".
  std::map<std::string, std::unique_ptr<QueueMetrics>, std::less<>> queues_ ABSL_GUARDED_BY(mu_);
};

// Bucket bounds of q8serve_request_duration_seconds: 100 µs to 10 s, roughly 1-2.5-5.
// Queue and compute durations use them too, so the three histograms line up.
const prometheus::Histogram::BucketBoundaries& RequestDurationBuckets();
// Bucket bounds of q8serve_batch_size: 1, 2, 4, ..., 128 rows.
const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets();

}  // namespace q8::server
