#include "server/server.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/grpc_listener.h"
#include "spdlog/spdlog.h"

#ifndef Q8SERVE_VERSION
#define Q8SERVE_VERSION "0.0.0"
#endif

namespace q8::server {
namespace {

// "host:port", bracketing IPv6 literals as gRPC expects ("[::]:8500").
std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  server->metrics_ = std::make_unique<Metrics>();

  ModelRepository::Options repository_options;
  repository_options.root = options.model_repository;
  repository_options.load.threads = options.threads;
  repository_options.workers = options.workers;
  repository_options.poll_interval = std::chrono::seconds(options.repository_poll_secs);
  repository_options.load_threads = options.load_threads;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository =
      ModelRepository::Create(repository_options, server->metrics_.get());
  if (!repository.ok()) return repository.status();
  server->repository_ = *std::move(repository);

  server->core_ = std::make_unique<PredictCore>(server->repository_.get(), server->metrics_.get());
  server->tf_serving_ = std::make_unique<TfServingService>(server->core_.get());
  server->tf_serving_->set_max_message_bytes(options.max_message_bytes);
  server->kserve_ = std::make_unique<KServeService>(server->core_.get(), Q8SERVE_VERSION);
  server->kserve_->set_max_message_bytes(options.max_message_bytes);
  server->q8serve_ = std::make_unique<Q8ServeService>(server->repository_.get());

  absl::StatusOr<std::unique_ptr<HttpEndpoint>> http =
      HttpEndpoint::Start(options.host, options.metrics_port, server->metrics_->Collectables());
  if (!http.ok()) return http.status();
  server->http_ = *std::move(http);
  server->metrics_port_ = server->http_->port();
  spdlog::info("metrics listening on http://{}/metrics (readiness: /ready)",
               HostPort(options.host, server->metrics_port_));

  // Both must be set before the builder is made: they register builder plugins.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // The listening socket is ours (grpc_listener.h says why); gRPC gets its connections.
  absl::StatusOr<std::unique_ptr<GrpcListener>> listener =
      GrpcListener::Bind(options.host, options.grpc_port);
  if (!listener.ok()) return listener.status();
  server->listener_ = *std::move(listener);
  grpc::ServerBuilder builder;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor =
      builder.experimental().AddExternalConnectionAcceptor(
          grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
          grpc::InsecureServerCredentials());
  // The inference handlers enforce --max-message-bytes with a message naming it
  // (message_limit.h); gRPC's own limit is only the hard cap behind that.
  builder.SetMaxReceiveMessageSize(GrpcHardMessageLimit(options.max_message_bytes));
  builder.SetMaxSendMessageSize(GrpcHardMessageLimit(options.max_message_bytes));
  if (options.grpc_max_connection_age_secs > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               options.grpc_max_connection_age_secs * 1000);
  }
  if (options.grpc_max_connection_age_grace_secs > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               options.grpc_max_connection_age_grace_secs * 1000);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(server->live_calls_.InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(counters));
  builder.RegisterService(server->tf_serving_.get());
  builder.RegisterService(server->kserve_.get());
  builder.RegisterService(server->q8serve_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr) {
    return absl::InternalError(absl::StrCat("gRPC server for ",
                                            HostPort(options.host, server->listener_->port()),
                                            " did not start"));
  }
  server->grpc_port_ = server->listener_->port();

  // Models are loaded before the server starts, so every service is ready now.
  grpc::HealthCheckServiceInterface* health = server->grpc_server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus("", true);
    for (const char* service : {tensorflow::serving::PredictionService::service_full_name(),
                                inference::GRPCInferenceService::service_full_name(),
                                q8serve::v1::Q8Serve::service_full_name()}) {
      health->SetServingStatus(service, true);
    }
  }
  // Accept only now: every service is registered and marked serving.
  server->listener_->Start(std::move(acceptor));
  spdlog::info("gRPC listening on {}", HostPort(options.host, server->grpc_port_));
  return server;
}

Server::~Server() {
  if (listener_ != nullptr) listener_->Close();
  if (grpc_server_ != nullptr) grpc_server_->Shutdown();
}

void Server::SetNotServing() {
  // New connections are refused from here on; the accepted ones keep being served.
  listener_->Close();
  http_->SetReady(false);
  if (grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
      health != nullptr) {
    // Shutdown() of the health service flips every status to NOT_SERVING and keeps it so.
    health->Shutdown();
  }
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  SetNotServing();
  const auto deadline = std::chrono::system_clock::now() + grace;
  absl::Notification drained;
  std::thread drain([&] {
    grpc_server_->Shutdown(deadline);
    drained.Notify();
  });
  // gRPC's Shutdown returns once every connection is closed, and a client that is not
  // reading (an idle C++ channel polls its socket only every few seconds) keeps its
  // connection open until the deadline. With no call left to finish, closing the
  // connections loses nothing. Quiet for a few polls in a row: a call gRPC matched just
  // before Shutdown may take a moment to reach its handler (and its LiveCalls count).
  constexpr int kQuietPolls = 3;
  int quiet = 0;
  while (!drained.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
    quiet = live_calls_.count() == 0 ? quiet + 1 : 0;
    if (quiet == kQuietPolls) {
      spdlog::debug("no call in flight: closing the remaining connections");
      grpc_server_cancel_all_calls(grpc_server_->c_server());
    }
  }
  drain.join();
  spdlog::debug("gRPC server shut down");
}

void Server::Wait() { grpc_server_->Wait(); }

}  // namespace q8::server
