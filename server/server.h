// Server: owns everything a running q8serve has — the metrics registry (the one allowed
// mutable global, handed down from here), the model repository, PredictCore, the gRPC
// services and server, and the HTTP endpoint (/metrics, /ready).
//
//   auto server = Server::Create(options);   // loads models, then starts listening
//   ... server->grpc_port() ...
//   server->Wait();                          // until Shutdown() (from another thread)
//
// Graceful stop (main.cc on SIGTERM): SetNotServing(); keep serving while balancers
// notice (--shutdown-delay-secs); Shutdown(grace).
//
// Thread-safety: SetNotServing() and Shutdown() may be called from any thread,
// Shutdown() once; Wait() from one thread. Destruction stops the listeners; call
// Shutdown() first for a graceful stop.
#pragma once

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "server/api/kserve_service.h"
#include "server/api/live_calls.h"
#include "server/api/q8serve_service.h"
#include "server/api/tf_serving_service.h"
#include "server/grpc_listener.h"
#include "server/inference/predict_core.h"
#include "server/metrics/http_endpoint.h"
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

  // Marks health NOT_SERVING for "" and every service, makes GET /ready answer 503 and
  // stops accepting connections (refused from now on), so balancers and clients that
  // check, or connect anew, stop sending new calls. Calls on the connections already
  // open are still served. Irreversible; idempotent.
  void SetNotServing();

  // SetNotServing(), then stops accepting calls and waits up to `grace` for in-flight
  // calls before cancelling them. A call is in flight until its reactor is finished, so
  // this includes calls waiting in a model's batch queue; gRPC waits for every call's
  // reactor to finish even after cancelling, so when this returns every queued call has
  // been answered (a cancelled one still runs, its answer dropped). Connections are closed as
  // soon as no call is in flight (LiveCalls), so idle clients do not make the drain wait
  // for `grace`.
  // Calls that reach gRPC after this began are cancelled by it (CANCELLED): give
  // balancers time to notice SetNotServing() first.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until Shutdown() has completed.
  void Wait();

  // Inference requests answered so far (all, OK), from q8serve_requests_total.
  Metrics::RequestTotals CountRequests() const { return metrics_->CountRequests(); }

 private:
  Server() = default;

  // Declaration order is destruction order in reverse: the gRPC server (which calls the
  // services) goes before the services, PredictCore, repository and metrics; the HTTP
  // endpoint (which reads the metrics) before the metrics.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<HttpEndpoint> http_;
  LiveCalls live_calls_;  // counts the calls of grpc_server_, so outlives it
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<PredictCore> core_;
  std::unique_ptr<TfServingService> tf_serving_;
  std::unique_ptr<KServeService> kserve_;
  std::unique_ptr<Q8ServeService> q8serve_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Hands connections to grpc_server_, so goes first (~Server closes it explicitly too).
  std::unique_ptr<GrpcListener> listener_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace q8::server
