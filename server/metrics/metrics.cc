#include "server/metrics/metrics.h"

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

void ModelMetrics::RequestStarted() { in_flight_->Increment(); }

void ModelMetrics::RecordRequest(Api api, absl::string_view signature, absl::StatusCode code,
                                 double seconds) {
  const int i = static_cast<int>(api);
  in_flight_->Decrement();
  // Every request, failed ones included: a latency histogram of successes only would
  // hide slow failures (timeouts); filter failures out with requests_total instead.
  duration_[i]->Observe(seconds);
  const SignatureHandles* handles = nullptr;
  for (const SignatureHandles& h : signatures_) {
    if (h.signature == signature) handles = &h;
  }
  if (code == absl::StatusCode::kOk && handles != nullptr) {
    handles->ok[i]->Increment();
    return;
  }
  // Errors are rarer and their status label is open-ended: look the counter up. A
  // signature this version does not serve (a client's typo) is labelled "".
  metrics_->RecordRequestSlow(model_, version_, handles != nullptr ? signature : "", api, code);
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(&prometheus::BuildCounter()
                     .Name("q8serve_requests_total")
                     .Help("Predict/ModelInfer requests by model, version, signature, API "
                           "and gRPC status")
                     .Register(*registry_)),
      request_duration_(&prometheus::BuildHistogram()
                             .Name("q8serve_request_duration_seconds")
                             .Help("Duration of inference requests, failed ones included")
                             .Register(*registry_)),
      in_flight_(&prometheus::BuildGauge()
                      .Name("q8serve_requests_in_flight")
                      .Help("Inference requests of a model being handled now")
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
                          .Help("Failed model version loads (version \"\": the model's config)")
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
                        .Register(*registry_)),
      process_(std::make_shared<ProcessMetrics>()) {}

Metrics::~Metrics() = default;

std::vector<std::shared_ptr<prometheus::Collectable>> Metrics::Collectables() const {
  return {registry_, process_};
}

ModelMetrics* Metrics::ForModel(absl::string_view model, int64_t version,
                                const std::vector<std::string>& signatures) {
  const std::string version_label = absl::StrCat(version);
  constexpr absl::string_view kSeparator("\0", 1);
  std::string key = absl::StrCat(model, kSeparator, version_label);
  for (const std::string& s : signatures) absl::StrAppend(&key, kSeparator, s);
  absl::MutexLock lock(&mu_);
  auto it = models_.find(key);
  if (it != models_.end()) return it->second.get();
  auto handles = std::make_unique<ModelMetrics>();
  handles->metrics_ = this;
  handles->model_ = std::string(model);
  handles->version_ = version_label;
  handles->in_flight_ = &in_flight_->Add({{"model", handles->model_}});
  for (const std::string& signature : signatures) {
    handles->signatures_.push_back({signature, {}});
  }
  for (Api api : {Api::kTfServing, Api::kKServe}) {
    const int i = static_cast<int>(api);
    const std::string api_name(ApiName(api));
    for (ModelMetrics::SignatureHandles& h : handles->signatures_) {
      h.ok[i] = &requests_->Add({{"model", handles->model_},
                                 {"version", version_label},
                                 {"signature", h.signature},
                                 {"api", api_name},
                                 {"status", "OK"}});
    }
    handles->duration_[i] = &request_duration_->Add(
        {{"model", handles->model_}, {"version", version_label}, {"api", api_name}},
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
  RecordRequestSlow(model, version, "", api, code);
  request_duration_
      ->Add({{"model", std::string(model)},
             {"version", std::string(version)},
             {"api", std::string(ApiName(api))}},
            RequestDurationBuckets())
      .Observe(seconds);
}

void Metrics::RecordRequestSlow(absl::string_view model, absl::string_view version,
                                absl::string_view signature, Api api, absl::StatusCode code) {
  requests_
      ->Add({{"model", std::string(model)},
             {"version", std::string(version)},
             {"signature", std::string(signature)},
             {"api", std::string(ApiName(api))},
             {"status", absl::StatusCodeToString(code)}})
      .Increment();
}

Metrics::RequestTotals Metrics::CountRequests() const {
  RequestTotals totals;
  for (const prometheus::MetricFamily& family : requests_->Collect()) {
    for (const prometheus::ClientMetric& metric : family.metric) {
      const auto n = static_cast<int64_t>(metric.counter.value);
      totals.all += n;
      for (const auto& label : metric.label) {
        if (label.name == "status" && label.value == "OK") totals.ok += n;
      }
    }
  }
  return totals;
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

void Metrics::RecordModelLoadFailure(absl::string_view model, int64_t version) {
  load_failures_
      ->Add({{"model", std::string(model)},
             {"version", version > 0 ? absl::StrCat(version) : std::string()}})
      .Increment();
}

}  // namespace q8::server
