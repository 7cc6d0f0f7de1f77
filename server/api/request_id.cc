#include "server/api/request_id.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "server/logging.h"

namespace q8::server {
namespace {

std::string RandomPrefix() {
  std::random_device device;
  const uint64_t bits = (static_cast<uint64_t>(device()) << 32) ^ device();
  return absl::StrCat(absl::Hex(bits, absl::kZeroPad16));
}

}  // namespace

RequestIdSource::RequestIdSource() : prefix_(RandomPrefix()) {}

std::string RequestIdSource::Next() {
  return absl::StrCat(prefix_, "-",
                      absl::Hex(next_.fetch_add(1, std::memory_order_relaxed), absl::kZeroPad8));
}

bool IsUsableRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;  // visible ASCII only: it goes into log lines
  }
  return true;
}

std::string RequestIdSource::Assign(grpc::CallbackServerContext* context) {
  std::string id;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find(kRequestIdKey); it != metadata.end()) {
    const absl::string_view sent(it->second.data(), it->second.size());
    if (IsUsableRequestId(sent)) id = std::string(sent);
  }
  if (id.empty()) id = Next();
  context->AddInitialMetadata(kRequestIdKey, id);
  return id;
}

void LogFailedRequest(absl::string_view request_id, Api api, absl::string_view model,
                      const grpc::Status& status) {
  LogEvent(spdlog::level::warn, "request failed",
           {{"request_id", std::string(request_id)},
            {"api", std::string(ApiName(api))},
            {"model", std::string(model)},
            // The absl names are gRPC's ("RESOURCE_EXHAUSTED"): the codes are the same
            // numbers (grpc_status.h).
            {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))},
            {"error", status.error_message()}});
}

}  // namespace q8::server
