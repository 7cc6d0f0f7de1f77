// The flags every q8c command uses to reach a server (--target,
// --timeout-ms) and, for commands about one model, --model and --version:
// parsed and checked in one place so the commands agree on defaults and
// error messages.
#ifndef Q8SERVE_CLIENT_CALL_ARGS_H_
#define Q8SERVE_CLIENT_CALL_ARGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/args.h"

namespace q8::client {

// Deadline of the commands that talk about a model (documented in their usage).
inline constexpr int64_t kModelCallTimeoutMs = 30000;

struct CallArgs {
  std::string target;      // HOST:PORT, required.
  int64_t timeout_ms = 0;  // <= 0 = no deadline.
};

struct ModelCallArgs {
  std::string target;
  int64_t timeout_ms = 0;
  std::string model;    // Required.
  int64_t version = 0;  // 0 = the server's latest.
};

// --target and --timeout-ms (default `default_timeout_ms`). Errors are the
// user's: the caller reports them as usage errors.
absl::StatusOr<CallArgs> ParseCallArgs(const Args& args, int64_t default_timeout_ms);

// ParseCallArgs plus --model and --version (a non-negative integer).
absl::StatusOr<ModelCallArgs> ParseModelCallArgs(const Args& args, int64_t default_timeout_ms);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_CALL_ARGS_H_
