// LiveCalls: how many gRPC calls of any service the server is handling right now.
//
// A server interceptor is created with each call and destroyed once the call is over
// (its status sent), so counting interceptors counts live calls, health checks and
// metadata calls included. With the asynchronous inference handlers that is when the
// model's worker has finished the call, not when the handler returned: a call waiting
// in a batch queue counts as live. Server's shutdown uses it: gRPC's graceful shutdown
// also waits for every *connection* to close, and an idle client that does not read its
// socket (a C++ channel with no call in progress polls it only every few seconds)
// would hold the exit until the grace deadline; once no call is live, the remaining
// connections can be closed at no cost.
//
// Thread-safe. Must outlive the grpc::Server whose interceptors it counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace q8::server {

class LiveCalls {
 public:
  LiveCalls() = default;
  LiveCalls(const LiveCalls&) = delete;
  LiveCalls& operator=(const LiveCalls&) = delete;

  int64_t count() const { return count_.load(std::memory_order_acquire); }

  // For ServerBuilder::experimental().SetInterceptorCreators.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

 private:
  class Interceptor;
  class Factory;
  std::atomic<int64_t> count_{0};
};

}  // namespace q8::server
