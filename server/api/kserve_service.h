// inference.GRPCInferenceService (KServe v2 / Triton gRPC protocol): liveness,
// readiness, metadata and ModelInfer.
//
// Thread-safe (stateless apart from the thread-safe PredictCore and the request id
// counter). ModelInfer decodes and validates on gRPC's callback thread, queues the
// request and returns; the model's worker encodes the response and finishes the call.
// The other handlers answer inline. `core` must outlive the service and every call it
// has queued (the gRPC server waits for them when it shuts down). Each ModelInfer gets a
// request id (request_id.h), set on the call before it is queued; failed ones are
// logged at warning level with it, by whichever thread finishes the call.
#pragma once

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "server/api/message_limit.h"
#include "server/api/request_id.h"
#include "server/inference/predict_core.h"

namespace q8::server {

// ModelMetadata.platform of every model.
inline constexpr char kKServePlatform[] = "onnx_int8";

// Trailing metadata of a ModelReady that answers not ready: the version's state
// ("loading", "failed", "unloaded", or "unknown" for a model or version not on disk) and
// why (the load error, the policy that leaves it out, or the model's config error).
inline constexpr char kVersionStateKey[] = "q8serve-version-state";
inline constexpr char kVersionReasonKey[] = "q8serve-version-reason-bin";

class KServeService final : public inference::GRPCInferenceService::CallbackService {
 public:
  // `server_version` is reported by ServerMetadata.
  KServeService(const PredictCore* core, std::string server_version)
      : core_(core), server_version_(std::move(server_version)) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;

  // Largest ModelInfer request / response (--max-message-bytes). Call before serving.
  void set_max_message_bytes(int64_t bytes) { max_message_bytes_ = bytes; }

  // Handler bodies without gRPC (tests call these directly). DoModelInfer waits for the
  // model's answer.
  absl::Status DoModelReady(const inference::ModelReadyRequest& request,
                            inference::ModelReadyResponse* response) const;
  // The trailing metadata of a ModelReady that answers not ready: {state, reason} (see
  // kVersionStateKey).
  std::pair<std::string, std::string> NotReadyState(
      const inference::ModelReadyRequest& request) const;
  absl::Status DoModelMetadata(const inference::ModelMetadataRequest& request,
                               inference::ModelMetadataResponse* response) const;
  absl::Status DoModelInfer(const inference::ModelInferRequest& request,
                            inference::ModelInferResponse* response) const;

 private:
  // Decodes `request` into `inference` after the --max-message-bytes check; a request
  // rejected here is counted (PredictCore::RecordRejected) with its decoding time.
  absl::Status Decode(const inference::ModelInferRequest& request,
                      InferenceRequest* inference) const;

  const PredictCore* const core_;
  const std::string server_version_;
  int64_t max_message_bytes_ = kDefaultMaxMessageBytes;
  RequestIdSource request_ids_;
};

}  // namespace q8::server
