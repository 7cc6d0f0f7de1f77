// PredictCore: the one place that knows both a servable and a request.
//
// Both wire APIs decode into an InferenceRequest and call PredictAsync, which finds the
// servable, checks the inputs against its signature (names, dtypes, shapes — with
// TF Serving-style messages that say what would have been valid), converts them at the
// quantized boundary and queues them on the servable's Batcher (server/inference/
// batcher.h). A worker of that servable runs the model (batched with other requests when
// the model's config enables it); the completion picks the requested outputs, records
// request metrics and hands the response to the caller's callback. The request thread
// only validates and queues. A request that found its servable counts in
// q8serve_requests_in_flight from then until that completion, queued or running, and is
// counted once, under the signature that answered it and its version, before the
// caller's callback runs.
//
// Thread-safe: PredictAsync may be called concurrently; each call works on its own
// snapshot of the serving map, and a queued request holds its servable until it is
// answered (so it runs on the version it was queued on, even across a reload). No lock
// but the servable's queue mutex is taken. The repository and metrics passed to the
// constructor must outlive the PredictCore and every pending request (metrics may be
// null).
#pragma once

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/inference/inference_request.h"
#include "server/metrics/metrics.h"
#include "server/repository/model_repository.h"
#include "server/signature/signature.h"

namespace q8::server {

// Receives the answer to one request; called exactly once.
using PredictDone = absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&>;

class PredictCore {
 public:
  PredictCore(const ModelRepository* repository, Metrics* metrics)
      : repository_(repository), metrics_(metrics) {}

  // Answers `request` through `done`: on the calling thread, before this returns, when
  // the request is rejected up front; otherwise on a worker thread of the servable.
  // `request.inputs` must point into `request.storage` or into memory that stays valid
  // until `done` has run.
  // Errors: NOT_FOUND (unknown model, version or signature; the message lists what is
  // served), INVALID_ARGUMENT (inputs or requested outputs that do not fit the
  // signature, more rows than the model's batching.max_batch_size), RESOURCE_EXHAUSTED
  // (the model's queue is full), DEADLINE_EXCEEDED (request.deadline passed before the
  // request ran), plus whatever Model::Run reports (INVALID_ARGUMENT / INTERNAL).
  void PredictAsync(InferenceRequest request, PredictDone done) const;

  // PredictAsync, waiting for the answer (tests, tools). `request` is not copied: its
  // tensors are read in place while this waits.
  absl::StatusOr<InferenceResponse> Predict(const InferenceRequest& request) const;

  // Counts a request that a codec rejected before it could reach Predict, after
  // `seconds` of decoding.
  void RecordRejected(absl::string_view model_name, Api api, const absl::Status& status,
                      double seconds) const;

  const ModelRepository& repository() const { return *repository_; }

 private:
  void PredictOn(std::shared_ptr<const Servable> servable, InferenceRequest request,
                 PredictDone done) const;

  const ModelRepository* const repository_;
  Metrics* const metrics_;
};

// Checks `request.inputs` against `signature`: exactly the signature's input names,
// each with the signature's dtype, rank and fixed dims (run-time dims must be > 0).
// INVALID_ARGUMENT otherwise. Exposed for tests.
absl::Status ValidateInputs(const Signature& signature, const InferenceRequest& request);

}  // namespace q8::server
