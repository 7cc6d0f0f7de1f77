#include "client/call_args.h"

#include <utility>

namespace q8::client {

absl::StatusOr<CallArgs> ParseCallArgs(const Args& args, int64_t default_timeout_ms) {
  CallArgs out;
  absl::StatusOr<std::string> target = args.Require("target");
  if (!target.ok()) return target.status();
  out.target = *std::move(target);
  absl::StatusOr<int64_t> timeout = args.GetInt("timeout-ms", default_timeout_ms);
  if (!timeout.ok()) return timeout.status();
  out.timeout_ms = *timeout;
  return out;
}

absl::StatusOr<ModelCallArgs> ParseModelCallArgs(const Args& args, int64_t default_timeout_ms) {
  absl::StatusOr<CallArgs> call = ParseCallArgs(args, default_timeout_ms);
  if (!call.ok()) return call.status();
  ModelCallArgs out;
  out.target = std::move(call->target);
  out.timeout_ms = call->timeout_ms;
  absl::StatusOr<std::string> model = args.Require("model");
  if (!model.ok()) return model.status();
  out.model = *std::move(model);
  absl::StatusOr<int64_t> version = args.GetInt("version", 0);
  if (!version.ok()) return version.status();
  // 0 is allowed: it is how the API spells "latest".
  if (*version < 0) return absl::InvalidArgumentError("--version must not be negative");
  out.version = *version;
  return out;
}

}  // namespace q8::client
