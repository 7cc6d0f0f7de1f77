// Request ids and the per-call log line of the inference handlers.
//
// Every Predict / ModelInfer call gets an id: the client's `x-request-id` metadata when
// it sends a usable one (1-128 visible ASCII characters, what proxies such as nginx and
// Envoy generate), else one made here. The id goes back to the client as
// `x-request-id` initial metadata and into every warning logged about the call, so a
// client's report, a balancer's access log and this server's log can be joined.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "server/metrics/metrics.h"

namespace q8::server {

inline constexpr char kRequestIdKey[] = "x-request-id";
inline constexpr size_t kMaxRequestIdLength = 128;

class RequestIdSource {
 public:
  // Generated ids are "<16 hex digits, random per source>-<8+ hex digits, counting>":
  // unique across restarts and replicas without a random draw per call.
  RequestIdSource();
  RequestIdSource(const RequestIdSource&) = delete;
  RequestIdSource& operator=(const RequestIdSource&) = delete;

  // The call's id (the client's, or a new one); adds it to the call's initial metadata.
  std::string Assign(grpc::CallbackServerContext* context);

  // A new id.
  std::string Next();

 private:
  const std::string prefix_;
  std::atomic<uint64_t> next_{0};
};

// Whether a client-sent id is used as is.
bool IsUsableRequestId(absl::string_view id);

// Logs a failed inference call at warning level: request_id, api, model, code and the
// status message (what the client was told).
void LogFailedRequest(absl::string_view request_id, Api api, absl::string_view model,
                      const grpc::Status& status);

}  // namespace q8::server
