// gRPC plumbing shared by q8c's commands: channel, deadline, error report.
#ifndef Q8SERVE_CLIENT_RPC_H_
#define Q8SERVE_CLIENT_RPC_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace q8::client {

// Exit codes of q8c (documented in the usage text).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // RPC error, bad response, not SERVING
inline constexpr int kExitUsage = 2;    // bad flags or unreadable input

// Plaintext channel with no message-size cap on receive: outputs of real
// models easily exceed gRPC's 4 MiB default, and a CLI has no reason to cap.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target);

// Deadline `timeout_ms` from now; <= 0 means none.
void SetTimeout(grpc::ClientContext& ctx, int64_t timeout_ms);

// "UNAVAILABLE", "NOT_FOUND", ... as in the gRPC spec.
absl::string_view StatusCodeName(grpc::StatusCode code);

// Prints "q8c: <rpc> failed: CODE: message" to stderr; returns kExitFailure.
int ReportRpcError(absl::string_view rpc, const grpc::Status& status);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_RPC_H_
