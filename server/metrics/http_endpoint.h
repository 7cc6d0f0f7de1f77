// The HTTP listener of the metrics port (civetweb, the server prometheus-cpp's own
// exposer uses):
//
//   GET /metrics   Prometheus text format of every collectable handed in
//   GET /ready     200 "ready" while the server takes traffic; 503 "shutting down" once
//                  SetReady(false) was called (SIGTERM). For balancers that health-check
//                  over HTTP (HAProxy `option httpchk`), which cannot speak grpc.health.v1.
//   GET /live      200 while the process answers at all.
//
// prometheus::Exposer serves /metrics only and hides its civetweb server, so readiness
// could not share the port with it; this class replaces it.
//
// Thread-safety: SetReady and ready() may be called from any thread; civetweb's threads
// call the handlers. The collectables must stay alive while the endpoint runs (they
// are held by shared_ptr). Destruction stops the listener and waits for its threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

class CivetServer;

namespace q8::server {

class HttpEndpoint {
 public:
  // Listens on host:port (port 0 = any free port; IPv6 literals as for gRPC). Starts
  // ready. UNAVAILABLE if the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(
      const std::string& host, int port,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The bound port.
  int port() const { return port_; }

  // What GET /ready answers from now on.
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
  bool ready() const { return ready_.load(std::memory_order_relaxed); }

  // The Prometheus text exposition of all collectables (what GET /metrics returns).
  std::string RenderMetrics() const;

 private:
  class Handler;
  HttpEndpoint() = default;

  // Connects to the listener once, to wake civetweb's accept loop (see the destructor).
  void Poke() const;

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::atomic<bool> ready_{true};
  std::string host_;
  int port_ = 0;
  // Declared last: destroyed (threads joined) before the state its handlers read.
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace q8::server
