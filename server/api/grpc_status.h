// The one conversion between absl::Status and grpc::Status. The canonical codes are the
// same numbers in both (OK=0 ... UNAUTHENTICATED=16), so codes map 1:1 and messages pass
// through unchanged. Stateless and thread-safe.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/inference/guarded.h"

namespace q8::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Runs a handler body `f` (returning absl::Status) under Guarded (inference/guarded.h:
// exceptions become RESOURCE_EXHAUSTED / INTERNAL) and converts its result.
template <typename F>
grpc::Status GuardedCall(F&& f) {
  return ToGrpcStatus(Guarded([&]() -> absl::Status { return f(); }));
}

}  // namespace q8::server
