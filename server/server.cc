#include "server/server.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
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
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository =
      ModelRepository::Create(repository_options, server->metrics_.get());
  if (!repository.ok()) return repository.status();
  server->repository_ = *std::move(repository);

  server->core_ = std::make_unique<PredictCore>(server->repository_.get(), server->metrics_.get());
  server->tf_serving_ = std::make_unique<TfServingService>(server->core_.get());
  server->kserve_ = std::make_unique<KServeService>(server->core_.get(), Q8SERVE_VERSION);
  server->q8serve_ = std::make_unique<Q8ServeService>(server->repository_.get());

  absl::StatusOr<int> metrics_port = server->metrics_->Serve(options.host, options.metrics_port);
  if (!metrics_port.ok()) return metrics_port.status();
  server->metrics_port_ = *metrics_port;
  spdlog::info("metrics listening on http://{}/metrics", HostPort(options.host, *metrics_port));

  // Both must be set before the builder is made: they register builder plugins.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string address = HostPort(options.host, options.grpc_port);
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  // gRPC enables SO_REUSEPORT by default: a second server on a busy port would start and
  // silently share its traffic. Off, so a port clash fails loudly.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(server->tf_serving_.get());
  builder.RegisterService(server->kserve_.get());
  builder.RegisterService(server->q8serve_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || selected_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", address, " (port in use or bad address)"));
  }
  server->grpc_port_ = selected_port;

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
  spdlog::info("gRPC listening on {}:{}", options.host, selected_port);
  return server;
}

Server::~Server() {
  if (grpc_server_ != nullptr) grpc_server_->Shutdown();
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
      health != nullptr) {
    // Shutdown() of the health service flips every status to NOT_SERVING and keeps it so.
    health->Shutdown();
  }
  grpc_server_->Shutdown(std::chrono::system_clock::now() + grace);
  spdlog::debug("gRPC server shut down");
}

void Server::Wait() { grpc_server_->Wait(); }

}  // namespace q8::server
