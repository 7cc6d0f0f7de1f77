// Inputs and request building shared by `q8c predict` and `q8c bench`
// (commands_predict.cc): --input/--json-input/--dtype into tensors, and the
// TF Serving PredictRequest / KServe ModelInferRequest made from them.
#ifndef Q8SERVE_CLIENT_PREDICT_REQUEST_H_
#define Q8SERVE_CLIENT_PREDICT_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/args.h"
#include "client/call_args.h"
#include "client/json_tensor.h"
#include "kserve/grpc_service.pb.h"
#include "tensorflow_serving/apis/predict.pb.h"

namespace q8::client {

// Every input from --input NAME=FILE.npy and --json-input, with --dtype
// applied. Errors are the user's (exit code 2).
absl::StatusOr<NamedTensors> LoadInputs(const Args& args);

// Errors are the user's (a tensor the API cannot carry).
absl::StatusOr<tensorflow::serving::PredictRequest> BuildPredictRequest(
    const ModelCallArgs& call, const std::string& signature, const NamedTensors& inputs,
    const std::vector<std::string>& output_filter);
absl::StatusOr<inference::ModelInferRequest> BuildModelInferRequest(
    const ModelCallArgs& call, const NamedTensors& inputs,
    const std::vector<std::string>& output_filter);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_PREDICT_REQUEST_H_
