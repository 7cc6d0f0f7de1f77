// A call's client deadline as the absl::Time the inference layer takes (it knows no gRPC
// types). Stateless and thread-safe.
#pragma once

#include <chrono>

#include "absl/time/time.h"
#include "grpcpp/server_context.h"

namespace q8::server {

// InfiniteFuture when the client set no deadline (gRPC reports time_point::max()).
inline absl::Time DeadlineOf(const grpc::ServerContextBase& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

}  // namespace q8::server
