// Server: owns everything a running q8serve has — the metrics registry (the one allowed
// mutable global, handed down from here), the model repository, PredictCore, the gRPC
// services and server, and the /metrics exposer.
//
//   auto server = Server::Create(options);   // loads models, then starts listening
//   ... server->grpc_port() ...
//   server->Wait();                          // until Shutdown() (from another thread)
//
// Thread-safety: Shutdown() may be called from any thread, once; Wait() from one thread.
// Destruction stops the listeners; call Shutdown() first for a graceful stop.
#pragma once

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "server/api/kserve_service.h"
#include "server/api/q8serve_service.h"
#include "server/api/tf_serving_service.h"
#include "server/inference/predict_core.h"
#include "server/metrics/metrics.h"
#include "server/options.h"
#include "server/repository/model_repository.h"

namespace q8::server {

class Server {
 public:
  // Loads every model (fails if none loads), starts /metrics, then gRPC, and marks the
  // health service SERVING for "" and each service. UNAVAILABLE if a port is taken.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options);
  ~Server();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }

  // Marks health NOT_SERVING (so load balancers drain), then stops accepting calls and
  // waits up to `grace` for in-flight calls before cancelling them.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until Shutdown() has completed.
  void Wait();

 private:
  Server() = default;

  // Declaration order is destruction order in reverse: the gRPC server (which calls the
  // services) goes before the services, PredictCore, repository and metrics.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<PredictCore> core_;
  std::unique_ptr<TfServingService> tf_serving_;
  std::unique_ptr<KServeService> kserve_;
  std::unique_ptr<Q8ServeService> q8serve_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace q8::server
