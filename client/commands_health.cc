// `q8c health`: grpc.health.v1.Health/Check. Prints the serving status; the
// exit code is 0 only for SERVING so scripts and probes can use it directly.
#include <iostream>
#include <string>

#include "client/call_args.h"
#include "client/commands.h"
#include "client/rpc.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace q8::client {

int RunHealth(const Args& args) {
  // Shorter than the model commands' deadline: probes want a quick answer.
  absl::StatusOr<CallArgs> call = ParseCallArgs(args, /*default_timeout_ms=*/5000);
  if (!call.ok()) return UsageError(call.status().message());

  grpc::health::v1::HealthCheckRequest req;
  req.set_service(args.Get("service"));
  auto stub = grpc::health::v1::Health::NewStub(MakeChannel(call->target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call->timeout_ms);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status status = stub->Check(&ctx, req, &resp);
  if (!status.ok()) return ReportRpcError("Health/Check", status);

  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status()) << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk : kExitFailure;
}

}  // namespace q8::client
