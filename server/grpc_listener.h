// The gRPC port's listening socket, owned here instead of by gRPC so that it can be
// closed on its own.
//
// On SIGTERM q8serve stops accepting connections at once (a balancer or client that
// connects anew is refused and goes to another replica, before any call is sent) while
// the connections it already has are served through --shutdown-delay-secs. gRPC has no
// call for "close the listener, keep serving": its Shutdown() does both, and it cancels
// calls that reach it afterwards. Balancers without health checks (open-source nginx)
// notice the refused connection when they next connect (nginx.conf's keepalive_time
// makes that happen within a second), so they stop sending before the drain.
//
// Accepted connections are handed to gRPC through ServerBuilder's external connection
// acceptor, on a thread of this object's own.
//
// Thread-safety: Close() may be called from any thread, concurrently with accepting.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/server_builder.h"

namespace q8::server {

class GrpcListener {
 public:
  // Binds and listens on host:port now (port 0: any free port), so a taken port fails
  // here, with UNAVAILABLE. "0.0.0.0" is every IPv4 interface, "::" every interface
  // (dual stack); a name binds the first address it resolves to.
  static absl::StatusOr<std::unique_ptr<GrpcListener>> Bind(const std::string& host, int port);
  ~GrpcListener();  // Close()
  GrpcListener(const GrpcListener&) = delete;
  GrpcListener& operator=(const GrpcListener&) = delete;

  int port() const { return port_; }

  // Accepts connections and hands each to `acceptor` until Close(). Call once, after
  // the grpc::Server is started (it closes connections handed over before).
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor);

  // Stops accepting and closes the socket: new connections are refused from now on;
  // the accepted ones are gRPC's. Idempotent.
  void Close();

 private:
  GrpcListener() = default;
  void AcceptLoop();

  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Close() wakes the accept loop
  int port_ = 0;
  std::atomic<bool> closed_{false};
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::thread thread_;
};

}  // namespace q8::server
