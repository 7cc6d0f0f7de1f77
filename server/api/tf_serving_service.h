// tensorflow.serving.PredictionService: Predict and GetModelMetadata, wire-compatible
// with TF Serving clients.
//
// Thread-safe (stateless apart from the PredictCore, which is thread-safe, and the
// request id counter). Predict decodes and validates on gRPC's callback thread, queues
// the request and returns; the model's worker encodes the response and finishes the
// call. Metadata is answered inline. `core` must outlive the service and every call it
// has queued (the gRPC server waits for them when it shuts down). Each Predict gets a
// request id (request_id.h), set on the call before it is queued; failed ones are
// logged at warning level with it, by whichever thread finishes the call.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "server/api/message_limit.h"
#include "server/api/request_id.h"
#include "server/inference/predict_core.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace q8::server {

// The method_name of every SignatureDef we report.
inline constexpr char kPredictMethodName[] = "tensorflow/serving/predict";

class TfServingService final : public tensorflow::serving::PredictionService::CallbackService {
 public:
  explicit TfServingService(const PredictCore* core) : core_(core) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const tensorflow::serving::PredictRequest* request,
                                    tensorflow::serving::PredictResponse* response) override;
  grpc::ServerUnaryReactor* GetModelMetadata(
      grpc::CallbackServerContext* context,
      const tensorflow::serving::GetModelMetadataRequest* request,
      tensorflow::serving::GetModelMetadataResponse* response) override;

  // Largest Predict request / response (--max-message-bytes). Call before serving.
  void set_max_message_bytes(int64_t bytes) { max_message_bytes_ = bytes; }

  // The handler bodies, without gRPC (tests call these directly). DoPredict waits for
  // the model's answer.
  absl::Status DoPredict(const tensorflow::serving::PredictRequest& request,
                         tensorflow::serving::PredictResponse* response) const;
  absl::Status DoGetModelMetadata(const tensorflow::serving::GetModelMetadataRequest& request,
                                  tensorflow::serving::GetModelMetadataResponse* response) const;

 private:
  // Decodes `request` into `inference` after the --max-message-bytes check; a request
  // rejected here is counted (PredictCore::RecordRejected) with its decoding time.
  absl::Status Decode(const tensorflow::serving::PredictRequest& request,
                      InferenceRequest* inference) const;

  const PredictCore* const core_;
  int64_t max_message_bytes_ = kDefaultMaxMessageBytes;
  RequestIdSource request_ids_;
};

}  // namespace q8::server
