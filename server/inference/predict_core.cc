#include "server/inference/predict_core.h"

#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "server/inference/batcher.h"
#include "server/inference/guarded.h"

namespace q8::server {
namespace {

std::string Braced(const std::vector<absl::string_view>& names) {
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

absl::Status ValidateShape(const Signature& signature, const SignatureTensor& expected,
                           const engine::TensorView& got) {
  const engine::Shape& want = expected.shape;
  auto mismatch = [&](absl::string_view detail) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Input '", expected.logical_name, "' has shape ", engine::ShapeToString(got.shape),
        " but signature '", signature.name, "' expects ", engine::ShapeToString(want), detail));
  };
  if (got.shape.size() != want.size()) {
    return mismatch(absl::StrCat(" (rank ", want.size(), ", got rank ", got.shape.size(), ")"));
  }
  for (size_t d = 0; d < want.size(); ++d) {
    if (got.shape[d] <= 0) {
      return mismatch(absl::StrCat(" (dimension ", d, " must be positive)"));
    }
    if (want[d] >= 0 && got.shape[d] != want[d]) {
      return mismatch(absl::StrCat(" (dimension ", d, " must be ", want[d], ")"));
    }
  }
  return absl::OkStatus();
}

// What the request thread worked out for one request, carried to its completion.
struct PreparedRun {
  const Signature* signature = nullptr;
  std::vector<const SignatureTensor*> outputs;  // requested, deduplicated, in order
  std::vector<engine::TensorView> views;        // engine inputs in ModelInfo::inputs order
  std::vector<engine::Tensor> converted;        // inputs quantized here (views point in)
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::Status ValidateInputs(const Signature& signature, const InferenceRequest& request) {
  std::vector<absl::string_view> extra;
  std::vector<absl::string_view> missing;
  for (const auto& [name, view] : request.inputs) {
    if (signature.FindInput(name) == nullptr) extra.push_back(name);
  }
  for (const SignatureTensor& t : signature.inputs) {
    if (!request.inputs.contains(t.logical_name)) missing.push_back(t.logical_name);
  }
  if (!extra.empty() || !missing.empty()) {
    // TF Serving's wording, so clients written against it read a familiar message.
    return absl::InvalidArgumentError(
        absl::StrCat("Request inputs do not match signature '", signature.name,
                     "'. Sent extra: ", Braced(extra), ". Missing but required: ", Braced(missing),
                     ". Valid inputs: ", signature.InputNames(), "."));
  }
  for (const SignatureTensor& t : signature.inputs) {
    const engine::TensorView& view = request.inputs.find(t.logical_name)->second;
    if (view.dtype != t.dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("Input '", t.logical_name, "' has dtype ",
                       std::string(engine::DTypeName(view.dtype)), " but signature '",
                       signature.name, "' expects ", std::string(engine::DTypeName(t.dtype)),
                       " with shape ", engine::ShapeToString(t.shape)));
    }
    if (absl::Status s = ValidateShape(signature, t, view); !s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

// Checks `request` against `servable` and builds its engine inputs.
absl::StatusOr<PreparedRun> Prepare(const Servable& servable, const InferenceRequest& request) {
  PreparedRun run;
  run.signature = servable.FindSignature(request.signature_name);
  if (run.signature == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "Model '", servable.name, "' version ", servable.version, " has no signature '",
        request.signature_name, "'. Available signatures: ", servable.SignatureNames()));
  }
  const Signature& signature = *run.signature;
  if (absl::Status s = ValidateInputs(signature, request); !s.ok()) return s;

  // Requested outputs, checked before queueing so a typo costs no inference.
  if (request.output_names.empty()) {
    for (const SignatureTensor& t : signature.outputs) run.outputs.push_back(&t);
  } else {
    std::set<absl::string_view> seen;
    for (const std::string& name : request.output_names) {
      const SignatureTensor* t = signature.FindOutput(name);
      if (t == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Requested output '", name, "' is not in signature '", signature.name, "' of model '",
            servable.name, "'. Valid outputs: ", signature.OutputNames()));
      }
      if (seen.insert(t->logical_name).second) run.outputs.push_back(t);
    }
  }

  // Engine inputs in engine order (ModelInfo::inputs), whatever order the client used.
  // Inputs the graph keeps quantized are quantized here with the graph's own boundary
  // parameters, so clients keep sending float (the signature says which).
  const engine::ModelInfo& info = servable.model->info();
  run.views.resize(info.inputs.size());
  run.converted.reserve(signature.inputs.size());
  for (const SignatureTensor& t : signature.inputs) {
    run.views[t.engine_index] = request.inputs.find(t.logical_name)->second;
    if (t.conversion == Conversion::kQuantize) {
      absl::StatusOr<engine::Tensor> q =
          engine::QuantizeTensor(run.views[t.engine_index], *t.info.quant);
      if (!q.ok()) return q.status();
      run.converted.push_back(*std::move(q));
      const engine::Tensor& c = run.converted.back();
      run.views[t.engine_index] = engine::TensorView{c.dtype(), c.shape(), c.data()};
    }
  }
  return run;
}

// The engine's outputs (this request's rows) under the requested logical names.
absl::StatusOr<InferenceResponse> NameOutputs(const Servable& servable, const PreparedRun& run,
                                              std::vector<engine::Tensor> results) {
  const engine::ModelInfo& info = servable.model->info();
  if (results.size() != info.outputs.size()) {
    return absl::InternalError(absl::StrCat("model '", servable.name, "' returned ", results.size(),
                                            " outputs, its info lists ", info.outputs.size()));
  }
  InferenceResponse response;
  response.model_name = servable.name;
  response.version = servable.version;
  response.signature_name = run.signature->name;
  // Two logical names may one day bind the same engine output (a resolver alias): move
  // each engine tensor out once and clone it for any later name.
  std::vector<int> first_use(results.size(), -1);
  for (const SignatureTensor* t : run.outputs) {
    engine::Tensor& result = results[t->engine_index];
    if (t->conversion == Conversion::kDequantize) {
      absl::StatusOr<engine::Tensor> real = engine::DequantizeTensor(
          engine::TensorView{result.dtype(), result.shape(), result.data()}, *t->info.quant);
      if (!real.ok()) return real.status();
      response.outputs.push_back({t->logical_name, *std::move(real)});
      continue;
    }
    int& first = first_use[t->engine_index];
    if (first < 0) {
      first = static_cast<int>(response.outputs.size());
      response.outputs.push_back({t->logical_name, std::move(result)});
    } else {
      response.outputs.push_back({t->logical_name, response.outputs[first].tensor.Clone()});
    }
  }
  return response;
}

}  // namespace

void PredictCore::PredictAsync(InferenceRequest request, PredictDone done) const {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const ServingMap> map = repository_->Snapshot();
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      map->Find(request.model_name, request.version);
  if (!servable.ok()) {
    if (metrics_ != nullptr) {
      // Label unknown models as "": a label per client-chosen name would let any
      // client grow the metric set without bound.
      const bool known = map->FindModel(request.model_name) != nullptr;
      metrics_->RecordUnmatchedRequest(known ? request.model_name : "", "", request.api,
                                       servable.status().code(), SecondsSince(start));
    }
    std::move(done)(servable.status());
    return;
  }
  map.reset();  // the request holds its servable, not the whole map
  // From here the request counts as in flight until it is answered, queued or running:
  // one RequestStarted, matched by the RecordRequest in `answer`, whichever thread
  // answers. The handles belong to Metrics, not to the servable, so they outlive it.
  ModelMetrics* const metrics = (*servable)->metrics;
  if (metrics != nullptr) metrics->RequestStarted();
  // The signature that will answer, for the `signature` label ("" when the request names
  // one this version lacks). Worked out here: the servable is let go before the answer.
  const Signature* signature = (*servable)->FindSignature(request.signature_name);
  std::string signature_name = signature != nullptr ? signature->name : std::string();
  const Api api = request.api;
  PredictDone answer = [metrics, api, start, signature = std::move(signature_name),
                        done = std::move(done)](absl::StatusOr<InferenceResponse> r) mutable {
    // Recorded before `done`: once the caller has its answer (a gRPC call finished), the
    // server may be shutting down, and every answered request must already be counted.
    if (metrics != nullptr) {
      metrics->RecordRequest(api, signature, r.status().code(), SecondsSince(start));
    }
    std::move(done)(std::move(r));
  };
  PredictOn(*std::move(servable), std::move(request), std::move(answer));
}

void PredictCore::PredictOn(std::shared_ptr<const Servable> servable, InferenceRequest request,
                            PredictDone done) const {
  absl::StatusOr<PreparedRun> prepared =
      Guarded([&]() -> absl::StatusOr<PreparedRun> { return Prepare(*servable, request); });
  if (!prepared.ok()) {
    std::move(done)(prepared.status());
    return;
  }
  Batcher* batcher = servable->batcher.get();
  auto task = std::make_unique<BatchTask>();
  task->inputs = std::move(prepared->views);  // the task keeps what they point into
  task->deadline = request.deadline;
  // The task owns everything its input views point into (the decoded request and the
  // quantized copies) and the servable, so a queued request survives a reload and runs
  // on the version it was queued on.
  task->done = [servable = std::move(servable), request = std::move(request),
                prepared = *std::move(prepared), done = std::move(done)](
                   absl::StatusOr<std::vector<engine::Tensor>> results) mutable {
    absl::StatusOr<InferenceResponse> response =
        Guarded([&]() -> absl::StatusOr<InferenceResponse> {
          if (!results.ok()) return results.status();
          return NameOutputs(*servable, prepared, *std::move(results));
        });
    // Let the servable go before answering: an unloaded version is then freed before its
    // last client hears back, and the answer never waits for that.
    servable.reset();
    std::move(done)(std::move(response));
  };
  batcher->Submit(std::move(task));
}

absl::StatusOr<InferenceResponse> PredictCore::Predict(const InferenceRequest& request) const {
  // The same request without its storage: the views point into `request`, which outlives
  // the wait below.
  InferenceRequest borrowed;
  borrowed.model_name = request.model_name;
  borrowed.version = request.version;
  borrowed.signature_name = request.signature_name;
  borrowed.api = request.api;
  borrowed.deadline = request.deadline;
  borrowed.inputs = request.inputs;
  borrowed.output_names = request.output_names;
  absl::Notification answered;
  absl::StatusOr<InferenceResponse> result;
  PredictAsync(std::move(borrowed), [&](absl::StatusOr<InferenceResponse> response) {
    result = std::move(response);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

void PredictCore::RecordRejected(absl::string_view model_name, Api api, const absl::Status& status,
                                 double seconds) const {
  if (metrics_ == nullptr) return;
  std::shared_ptr<const ServingMap> map = repository_->Snapshot();
  const bool known = map->FindModel(model_name) != nullptr;
  metrics_->RecordUnmatchedRequest(known ? model_name : "", "", api, status.code(), seconds);
}

}  // namespace q8::server
