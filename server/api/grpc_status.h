// The one conversion between absl::Status and grpc::Status. The canonical codes are the
// same numbers in both (OK=0 ... UNAUTHENTICATED=16), so codes map 1:1 and messages pass
// through unchanged. Stateless and thread-safe.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace q8::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Runs a handler body `f` (returning absl::Status) and converts its result. Exceptions
// stop here so that no request can take the server down: std::bad_alloc (a request too
// large for memory) becomes RESOURCE_EXHAUSTED, anything else INTERNAL.
template <typename F>
grpc::Status GuardedCall(F&& f) {
  try {
    return ToGrpcStatus(f());
  } catch (const std::bad_alloc&) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "out of memory while handling the request");
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string("unexpected error: ") + e.what());
  }
}

}  // namespace q8::server
