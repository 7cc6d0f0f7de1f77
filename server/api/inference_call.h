// The life of one inference call, shared by TF Serving Predict and KServe ModelInfer: the
// request id, decoding (a failure answered at once), the client's deadline, the queue of
// PredictCore, encoding on whichever thread answers, the failure log line, Finish.
#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "server/api/deadline.h"
#include "server/api/grpc_status.h"
#include "server/api/request_id.h"
#include "server/inference/predict_core.h"

namespace q8::server {

// decode(InferenceRequest*) → absl::Status fills the request from the wire message;
// encode(const absl::StatusOr<InferenceResponse>&) → absl::Status fills the reply. `model`
// names the model in log lines; like the request and response messages it must stay valid
// until Finish (gRPC keeps them until then). Both functions run under GuardedCall.
template <typename Decode, typename Encode>
grpc::ServerUnaryReactor* ServeInferenceCall(grpc::CallbackServerContext* context,
                                             const PredictCore& core, RequestIdSource& ids,
                                             Api api, absl::string_view model, Decode decode,
                                             Encode encode) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Set on the context before anything can finish the call: the id goes out in the
  // initial metadata, which gRPC sends with Finish, from whichever thread calls it.
  std::string request_id = ids.Assign(context);
  InferenceRequest inference;
  const grpc::Status decoded = GuardedCall([&] { return decode(&inference); });
  if (!decoded.ok()) {
    LogFailedRequest(request_id, api, model, decoded);
    reactor->Finish(decoded);
    return reactor;
  }
  inference.deadline = DeadlineOf(*context);
  // The answer may come on this thread (a request rejected before queueing) or on a worker
  // of the model. The callback captures what it needs by value, not the service: Finish is
  // its last act, and once a call has finished the server may be shutting down under the
  // worker.
  core.PredictAsync(std::move(inference),
                    [reactor, api, model, encode = std::move(encode),
                     request_id = std::move(request_id)](absl::StatusOr<InferenceResponse> result) {
                      const grpc::Status status = GuardedCall([&] { return encode(result); });
                      if (!status.ok()) LogFailedRequest(request_id, api, model, status);
                      reactor->Finish(status);
                    });
  return reactor;
}

}  // namespace q8::server
