#include "server/inference/predict_core.h"

#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

absl::StatusOr<InferenceResponse> PredictCore::Predict(const InferenceRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::shared_ptr<const ServingMap> map = repository_->Snapshot();
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      map->Find(request.model_name, request.version);
  if (!servable.ok()) {
    if (metrics_ != nullptr) {
      // Label unknown models as "": a label per client-chosen name would let any
      // client grow the metric set without bound.
      const bool known = map->FindModel(request.model_name) != nullptr;
      metrics_->RecordUnmatchedRequest(known ? request.model_name : "", "", request.api,
                                       servable.status().code(), seconds());
    }
    return servable.status();
  }
  ModelMetrics* const m = (*servable)->metrics;
  if (m != nullptr) m->RequestStarted();
  absl::StatusOr<InferenceResponse> response = PredictOn(**servable, request);
  if (m != nullptr) {
    // The signature that answered ("" when the request named one the version lacks).
    const Signature* signature = (*servable)->FindSignature(request.signature_name);
    m->RecordRequest(request.api, signature != nullptr ? absl::string_view(signature->name) : "",
                     response.status().code(), seconds());
  }
  return response;
}

void PredictCore::RecordRejected(absl::string_view model_name, Api api, const absl::Status& status,
                                 double seconds) const {
  if (metrics_ == nullptr) return;
  std::shared_ptr<const ServingMap> map = repository_->Snapshot();
  const bool known = map->FindModel(model_name) != nullptr;
  metrics_->RecordUnmatchedRequest(known ? model_name : "", "", api, status.code(), seconds);
}

absl::StatusOr<InferenceResponse> PredictCore::PredictOn(const Servable& servable,
                                                         const InferenceRequest& request) const {
  const Signature* signature = servable.FindSignature(request.signature_name);
  if (signature == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "Model '", servable.name, "' version ", servable.version, " has no signature '",
        request.signature_name, "'. Available signatures: ", servable.SignatureNames()));
  }
  if (absl::Status s = ValidateInputs(*signature, request); !s.ok()) return s;

  // Requested outputs, checked before running so a typo costs no inference.
  std::vector<const SignatureTensor*> outputs;
  if (request.output_names.empty()) {
    for (const SignatureTensor& t : signature->outputs) outputs.push_back(&t);
  } else {
    std::set<absl::string_view> seen;
    for (const std::string& name : request.output_names) {
      const SignatureTensor* t = signature->FindOutput(name);
      if (t == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Requested output '", name, "' is not in signature '", signature->name, "' of model '",
            servable.name, "'. Valid outputs: ", signature->OutputNames()));
      }
      if (seen.insert(t->logical_name).second) outputs.push_back(t);
    }
  }

  // Engine inputs in engine order (ModelInfo::inputs), whatever order the client used.
  // Inputs the graph keeps quantized are quantized here with the graph's own boundary
  // parameters, so clients keep sending float (the signature says which).
  const engine::ModelInfo& info = servable.model->info();
  std::vector<engine::TensorView> views(info.inputs.size());
  std::vector<engine::Tensor> converted;
  converted.reserve(signature->inputs.size());
  for (const SignatureTensor& t : signature->inputs) {
    views[t.engine_index] = request.inputs.find(t.logical_name)->second;
    if (t.conversion == Conversion::kQuantize) {
      absl::StatusOr<engine::Tensor> q = engine::QuantizeTensor(views[t.engine_index], *t.info.quant);
      if (!q.ok()) return q.status();
      converted.push_back(*std::move(q));
      const engine::Tensor& c = converted.back();
      views[t.engine_index] = engine::TensorView{c.dtype(), c.shape(), c.data()};
    }
  }

  absl::StatusOr<std::vector<engine::Tensor>> results;
  {
    RunContextPool::Lease lease = servable.contexts->Acquire();
    results = servable.model->Run(lease.context(), views);
  }
  if (!results.ok()) return results.status();
  if (results->size() != info.outputs.size()) {
    return absl::InternalError(absl::StrCat("model '", servable.name, "' returned ",
                                            results->size(), " outputs, its info lists ",
                                            info.outputs.size()));
  }

  InferenceResponse response;
  response.model_name = servable.name;
  response.version = servable.version;
  response.signature_name = signature->name;
  // Two logical names may one day bind the same engine output (a resolver alias): move
  // each engine tensor out once and clone it for any later name.
  std::vector<int> first_use(results->size(), -1);
  for (const SignatureTensor* t : outputs) {
    engine::Tensor& result = (*results)[t->engine_index];
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

}  // namespace q8::server
