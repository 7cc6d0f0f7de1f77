// `q8c status` and `q8c reload`: q8serve.v1 GetModelStatus and ReloadRepository, for
// operators. status shows every model version the server knows and why one is not
// available; reload makes the server rescan its repository now and shows what changed.
#include <cstdint>
#include <iostream>

#include "absl/strings/numbers.h"
#include "client/call_args.h"
#include "client/commands.h"
#include "client/repository_listing.h"
#include "client/rpc.h"
#include "q8serve/v1/q8serve.grpc.pb.h"

namespace q8::client {

int RunStatus(const Args& args) {
  absl::StatusOr<CallArgs> call = ParseCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());
  q8serve::v1::GetModelStatusRequest req;
  req.set_model_name(args.Get("model"));
  if (args.Has("version")) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(args.Get("version"), &version) || version < 0) {
      return UsageError("--version must be a non-negative integer");
    }
    if (req.model_name().empty()) return UsageError("--version needs --model");
    req.set_version(version);
  }
  auto stub = q8serve::v1::Q8Serve::NewStub(MakeChannel(call->target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call->timeout_ms);
  q8serve::v1::GetModelStatusResponse resp;
  grpc::Status status = stub->GetModelStatus(&ctx, req, &resp);
  if (!status.ok()) return ReportRpcError("GetModelStatus", status);
  std::cout << (args.Has("json") ? ModelStatusToJson(resp) + "\n" : RenderModelStatus(resp));
  return kExitOk;
}

int RunReload(const Args& args) {
  // Loading models can take a while: a longer default deadline than queries.
  absl::StatusOr<CallArgs> call = ParseCallArgs(args, /*default_timeout_ms=*/300000);
  if (!call.ok()) return UsageError(call.status().message());
  auto stub = q8serve::v1::Q8Serve::NewStub(MakeChannel(call->target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call->timeout_ms);
  q8serve::v1::ReloadRepositoryResponse resp;
  grpc::Status status = stub->ReloadRepository(&ctx, q8serve::v1::ReloadRepositoryRequest(), &resp);
  if (!status.ok()) return ReportRpcError("ReloadRepository", status);
  std::cout << (args.Has("json") ? ReloadToJson(resp) + "\n" : RenderReload(resp));
  return ReloadHadFailures(resp) ? kExitFailure : kExitOk;
}

}  // namespace q8::client
