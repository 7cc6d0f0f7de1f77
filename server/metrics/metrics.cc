#include "server/metrics/metrics.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/labels.h"

namespace q8::server {

absl::string_view ApiName(Api api) {
  switch (api) {
    case Api::kTfServing:
      return "tfserving";
    case Api::kKServe:
      return "kserve";
  }
  return "unknown";
}

const prometheus::Histogram::BucketBoundaries& RequestDurationBuckets() {
  static const auto* const kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
  return *kBuckets;
}

const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128};
  return *kBuckets;
}

void ModelMetrics::RecordRequest(Api api, absl::StatusCode code, double seconds) {
  const int i = static_cast<int>(api);
  if (code == absl::StatusCode::kOk) {
    ok_[i]->Increment();
    duration_[i]->Observe(seconds);
    return;
  }
  // Errors are rarer and their status label is open-ended: look the counter up.
  metrics_->RecordRequestSlow(model_, version_, api, code, seconds);
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(&prometheus::BuildCounter()
                     .Name("q8serve_requests_total")
                     .Help("Predict/ModelInfer requests by model, version, API and gRPC status")
                     .Register(*registry_)),
      request_duration_(&prometheus::BuildHistogram()
                             .Name("q8serve_request_duration_seconds")
                             .Help("Duration of successful inference requests")
                             .Register(*registry_)),
      load_duration_(&prometheus::BuildGauge()
                          .Name("q8serve_model_load_duration_seconds")
                          .Help("Time LoadModel took for a model version")
                          .Register(*registry_)),
      model_state_(&prometheus::BuildGauge()
                        .Name("q8serve_model_state")
                        .Help("1 for the current state of a model version, 0 otherwise")
                        .Register(*registry_)),
      load_failures_(&prometheus::BuildCounter()
                          .Name("q8serve_model_load_failures_total")
                          .Help("Failed model version loads")
                          .Register(*registry_)),
      queue_duration_(&prometheus::BuildHistogram()
                           .Name("q8serve_queue_duration_seconds")
                           .Help("Time requests waited in a model version's queue before their "
                                 "batch was taken by a worker")
                           .Register(*registry_)),
      compute_duration_(&prometheus::BuildHistogram()
                             .Name("q8serve_compute_duration_seconds")
                             .Help("Time of one model run (one batch)")
                             .Register(*registry_)),
      batch_size_(&prometheus::BuildHistogram()
                       .Name("q8serve_batch_size")
                       .Help("Rows (dimension 0) per model run; above 1 when requests were "
                             "batched together or sent several rows")
                       .Register(*registry_)),
      queue_depth_(&prometheus::BuildGauge()
                        .Name("q8serve_queue_depth")
                        .Help("Requests waiting in a model version's queue")
                        .Register(*registry_)) {}

Metrics::~Metrics() = default;

absl::StatusOr<int> Metrics::Serve(const std::string& host, int port) {
  absl::MutexLock lock(&mu_);
  if (exposer_ != nullptr) {
    return absl::FailedPreconditionError("metrics exposer already started");
  }
  // civetweb wants IPv6 literals bracketed, as gRPC does.
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  const std::string address =
      ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
  try {
    // civetweb (under prometheus-cpp) throws when it cannot bind.
    auto exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
    exposer->RegisterCollectable(registry_, "/metrics");
    const std::vector<int> ports = exposer->GetListeningPorts();
    if (ports.empty() || ports.front() <= 0) {
      return absl::UnavailableError(
          absl::StrCat("metrics exposer on ", address, " reports no listening port"));
    }
    exposer_ = std::move(exposer);
    return ports.front();
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
}

ModelMetrics* Metrics::ForModel(absl::string_view model, int64_t version) {
  const std::string version_label = absl::StrCat(version);
  const std::string key = absl::StrCat(model, absl::string_view("\0", 1), version_label);
  absl::MutexLock lock(&mu_);
  auto it = models_.find(key);
  if (it != models_.end()) return it->second.get();
  auto handles = std::make_unique<ModelMetrics>();
  handles->metrics_ = this;
  handles->model_ = std::string(model);
  handles->version_ = version_label;
  for (Api api : {Api::kTfServing, Api::kKServe}) {
    const int i = static_cast<int>(api);
    const std::string api_name(ApiName(api));
    handles->ok_[i] = &requests_->Add({{"model", handles->model_},
                                       {"version", version_label},
                                       {"api", api_name},
                                       {"status", "OK"}});
    handles->duration_[i] = &request_duration_->Add({{"model", handles->model_}, {"api", api_name}},
                                                    RequestDurationBuckets());
  }
  ModelMetrics* raw = handles.get();
  models_.emplace(key, std::move(handles));
  return raw;
}

QueueMetrics* Metrics::ForQueue(absl::string_view model, int64_t version) {
  const std::string version_label = absl::StrCat(version);
  const std::string key = absl::StrCat(model, absl::string_view("\0", 1), version_label);
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(key);
  if (it != queues_.end()) return it->second.get();
  const prometheus::Labels labels = {{"model", std::string(model)}, {"version", version_label}};
  auto handles = std::make_unique<QueueMetrics>();
  handles->queue_duration_ = &queue_duration_->Add(labels, RequestDurationBuckets());
  handles->compute_duration_ = &compute_duration_->Add(labels, RequestDurationBuckets());
  handles->batch_size_ = &batch_size_->Add(labels, BatchSizeBuckets());
  handles->queue_depth_ = &queue_depth_->Add(labels);
  QueueMetrics* raw = handles.get();
  queues_.emplace(key, std::move(handles));
  return raw;
}

void Metrics::RecordUnmatchedRequest(absl::string_view model, absl::string_view version, Api api,
                                     absl::StatusCode code, double seconds) {
  RecordRequestSlow(model, version, api, code, seconds);
}

void Metrics::RecordRequestSlow(absl::string_view model, absl::string_view version, Api api,
                                absl::StatusCode code, double seconds) {
  requests_
      ->Add({{"model", std::string(model)},
             {"version", std::string(version)},
             {"api", std::string(ApiName(api))},
             {"status", absl::StatusCodeToString(code)}})
      .Increment();
  // Durations are observed for successful requests only: a latency histogram mixing
  // in instant rejections would flatter the service.
  (void)seconds;
}

void Metrics::SetModelState(absl::string_view model, int64_t version, VersionState state) {
  const std::string version_label = absl::StrCat(version);
  for (VersionState s : kAllVersionStates) {
    model_state_
        ->Add({{"model", std::string(model)},
               {"version", version_label},
               {"state", std::string(VersionStateName(s))}})
        .Set(s == state ? 1.0 : 0.0);
  }
}

void Metrics::RecordModelLoad(absl::string_view model, int64_t version, double seconds) {
  load_duration_->Add({{"model", std::string(model)}, {"version", absl::StrCat(version)}})
      .Set(seconds);
}

void Metrics::RecordModelLoadFailure(absl::string_view model) {
  load_failures_->Add({{"model", std::string(model)}}).Increment();
}

}  // namespace q8::server
