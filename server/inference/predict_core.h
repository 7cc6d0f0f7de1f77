// PredictCore: the one place that knows both a servable and a request.
//
// Both wire APIs decode into an InferenceRequest and call Predict, which finds the
// servable, checks the inputs against its signature (names, dtypes, shapes — with
// TF Serving-style messages that say what would have been valid), leases a RunContext,
// runs the model, picks the requested outputs and records request metrics.
//
// Thread-safe: Predict may be called concurrently; each call works on its own snapshot
// of the serving map and its own leased RunContext. The repository and metrics passed to
// the constructor must outlive the PredictCore (metrics may be null).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/inference/inference_request.h"
#include "server/metrics/metrics.h"
#include "server/repository/model_repository.h"
#include "server/signature/signature.h"

namespace q8::server {

class PredictCore {
 public:
  PredictCore(const ModelRepository* repository, Metrics* metrics)
      : repository_(repository), metrics_(metrics) {}

  // Errors: NOT_FOUND (unknown model, version or signature; the message lists what is
  // served), INVALID_ARGUMENT (inputs or requested outputs that do not fit the
  // signature), plus whatever Model::Run reports (INVALID_ARGUMENT / INTERNAL).
  absl::StatusOr<InferenceResponse> Predict(const InferenceRequest& request) const;

  // Counts a request that a codec rejected before it could reach Predict, after
  // `seconds` of decoding.
  void RecordRejected(absl::string_view model_name, Api api, const absl::Status& status,
                      double seconds) const;

  const ModelRepository& repository() const { return *repository_; }

 private:
  absl::StatusOr<InferenceResponse> PredictOn(const Servable& servable,
                                              const InferenceRequest& request) const;

  const ModelRepository* const repository_;
  Metrics* const metrics_;
};

// Checks `request.inputs` against `signature`: exactly the signature's input names,
// each with the signature's dtype, rank and fixed dims (run-time dims must be > 0).
// INVALID_ARGUMENT otherwise. Exposed for tests.
absl::Status ValidateInputs(const Signature& signature, const InferenceRequest& request);

}  // namespace q8::server
