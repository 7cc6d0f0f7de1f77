// gRPC plumbing shared by q8c's commands: channel, deadline, error report.
#ifndef Q8SERVE_CLIENT_RPC_H_
#define Q8SERVE_CLIENT_RPC_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace q8::client {

// Exit codes of q8c (documented in the usage text).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // RPC error, bad response, not SERVING
inline constexpr int kExitUsage = 2;    // bad flags or unreadable input

// Plaintext channel with no message-size cap on receive: outputs of real
// models easily exceed gRPC's 4 MiB default, and a CLI has no reason to cap.
// own_connection: a local subchannel pool, so that this channel has its own HTTP/2
// connection (gRPC otherwise shares one between channels with equal arguments).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, bool own_connection = false);

// Connects `channel` to `target` now, waiting at most `timeout_ms`; UNAVAILABLE naming the
// target and the channel's state if it is not connected by then. gRPC connects lazily, on
// the first call, and a channel whose attempt failed fails every call at once until its
// reconnect backoff passes. Debian 12's gRPC 1.51 reports about 1 in 100 of many
// simultaneous connects to a listening loopback server as failed ("connect: No such file
// or directory": errno overwritten between connect(2) and its check, fixed upstream by
// grpc/grpc#35064), so a load generator whose workers all connect on their first call
// lost a worker's share of the run. Connecting first, with a short backoff
// (kReconnectBackoffMs), retries such an attempt before anything is timed.
absl::Status ConnectChannel(grpc::Channel& channel, const std::string& target,
                            int64_t timeout_ms);

// Initial reconnect backoff of q8c's channels (gRPC's default is 1 s).
inline constexpr int kReconnectBackoffMs = 100;

// Deadline `timeout_ms` from now; <= 0 means none.
void SetTimeout(grpc::ClientContext& ctx, int64_t timeout_ms);

// "UNAVAILABLE", "NOT_FOUND", ... as in the gRPC spec.
absl::string_view StatusCodeName(grpc::StatusCode code);

// Prints "q8c: <rpc> failed: CODE: message" to stderr; returns kExitFailure.
int ReportRpcError(absl::string_view rpc, const grpc::Status& status);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_RPC_H_
