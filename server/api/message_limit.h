// The --max-message-bytes check of inference requests and responses.
//
// gRPC enforces its own size limit before a message is parsed, but its error ("Received
// message larger than max (N vs. M)") names neither the flag nor what to do, and it is
// not counted in our metrics. So gRPC's limit is set to twice ours (a hard cap that
// still avoids parsing absurd messages) and the handlers apply ours with this check.
// Stateless, thread-safe.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace q8::server {

// 64 MiB: ServerOptions::max_message_bytes' default.
inline constexpr int64_t kDefaultMaxMessageBytes = int64_t{64} << 20;

// RESOURCE_EXHAUSTED naming `what` ("ModelInfer request"), its size, the limit and the
// flag when `message` serialises to more than `limit` bytes; OK otherwise.
absl::Status CheckMessageSize(const google::protobuf::Message& message, int64_t limit,
                              absl::string_view what);

// The limit to give gRPC itself for a --max-message-bytes of `limit`: twice, capped at
// INT32_MAX (gRPC's limits are ints).
int GrpcHardMessageLimit(int64_t limit);

}  // namespace q8::server
