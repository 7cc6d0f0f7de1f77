// q8serve.v1.Q8Serve: GetSignature, which explains how a signature's logical names are
// bound to the engine's tensors (dtype, shape, quantization, rule, why); GetGraph, which
// lists the loaded graph's tensors and nodes, filtered by an RE2 pattern; GetModelStatus,
// every version's state and why; ReloadRepository, a rescan of the model repository.
//
// Thread-safe. `repository` must outlive the service. ReloadRepository does not hold a
// gRPC thread while models load: the reload runs on the repository's load thread, which
// finishes the call.
#pragma once

#include "absl/status/status.h"
#include "q8serve/v1/q8serve.grpc.pb.h"
#include "server/repository/model_repository.h"

namespace q8::server {

class Q8ServeService final : public q8serve::v1::Q8Serve::CallbackService {
 public:
  explicit Q8ServeService(ModelRepository* repository) : repository_(repository) {}

  grpc::ServerUnaryReactor* GetSignature(grpc::CallbackServerContext* context,
                                         const q8serve::v1::GetSignatureRequest* request,
                                         q8serve::v1::GetSignatureResponse* response) override;

  grpc::ServerUnaryReactor* GetGraph(grpc::CallbackServerContext* context,
                                     const q8serve::v1::GetGraphRequest* request,
                                     q8serve::v1::GetGraphResponse* response) override;

  grpc::ServerUnaryReactor* GetModelStatus(grpc::CallbackServerContext* context,
                                           const q8serve::v1::GetModelStatusRequest* request,
                                           q8serve::v1::GetModelStatusResponse* response) override;

  grpc::ServerUnaryReactor* ReloadRepository(
      grpc::CallbackServerContext* context, const q8serve::v1::ReloadRepositoryRequest* request,
      q8serve::v1::ReloadRepositoryResponse* response) override;

  // Handler bodies without gRPC. NOT_FOUND for an unknown model, version or signature;
  // INVALID_ARGUMENT for a bad pattern. DoReloadRepository blocks until the reload is done.
  absl::Status DoGetSignature(const q8serve::v1::GetSignatureRequest& request,
                              q8serve::v1::GetSignatureResponse* response) const;
  absl::Status DoGetGraph(const q8serve::v1::GetGraphRequest& request,
                          q8serve::v1::GetGraphResponse* response) const;
  absl::Status DoGetModelStatus(const q8serve::v1::GetModelStatusRequest& request,
                                q8serve::v1::GetModelStatusResponse* response) const;
  absl::Status DoReloadRepository(const q8serve::v1::ReloadRepositoryRequest& request,
                                  q8serve::v1::ReloadRepositoryResponse* response);

 private:
  ModelRepository* const repository_;
};

}  // namespace q8::server
