// tensorflow.serving.PredictionService: Predict and GetModelMetadata, wire-compatible
// with TF Serving clients.
//
// Thread-safe (stateless apart from the PredictCore, which is thread-safe). Predict
// decodes and validates on gRPC's callback thread, queues the request and returns; the
// model's worker encodes the response and finishes the call. Metadata is answered
// inline. `core` must outlive the service and every call it has queued (the gRPC server
// waits for them when it shuts down).
#pragma once

#include "absl/status/status.h"
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

  // The handler bodies, without gRPC (tests call these directly). DoPredict waits for
  // the model's answer.
  absl::Status DoPredict(const tensorflow::serving::PredictRequest& request,
                         tensorflow::serving::PredictResponse* response) const;
  absl::Status DoGetModelMetadata(const tensorflow::serving::GetModelMetadataRequest& request,
                                  tensorflow::serving::GetModelMetadataResponse* response) const;

 private:
  const PredictCore* const core_;
};

}  // namespace q8::server
