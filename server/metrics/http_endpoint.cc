#include "server/metrics/http_endpoint.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <functional>
#include <thread>
#include <utility>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace q8::server {
namespace {

void Reply(mg_connection* conn, int code, absl::string_view reason, absl::string_view type,
           absl::string_view body) {
  const std::string head = absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", type,
                                        "\r\nContent-Length: ", body.size(),
                                        "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
  mg_write(conn, head.data(), head.size());
  mg_write(conn, body.data(), body.size());
}

}  // namespace

// One GET route (civetweb answers other methods itself).
class HttpEndpoint::Handler : public CivetHandler {
 public:
  explicit Handler(std::function<void(mg_connection*)> get) : get_(std::move(get)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    // No exception may unwind into civetweb's C threads.
    try {
      get_(conn);
    } catch (const std::exception& e) {
      Reply(conn, 500, "Internal Server Error", "text/plain", e.what());
    }
    return true;
  }

 private:
  const std::function<void(mg_connection*)> get_;
};

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(
    const std::string& host, int port,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  endpoint->collectables_ = std::move(collectables);
  // civetweb wants IPv6 literals bracketed, as gRPC does.
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  const std::string address =
      ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
  // Two threads: a scrape and a health check at once; a third caller waits briefly.
  const std::vector<std::string> options = {"listening_ports",    address, "num_threads", "2",
                                            "request_timeout_ms", "5000"};
  try {
    // civetweb throws CivetException when it cannot bind.
    endpoint->server_ = std::make_unique<CivetServer>(options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve HTTP (metrics, readiness) on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = endpoint->server_->getListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return absl::UnavailableError(
        absl::StrCat("HTTP listener on ", address, " reports no listening port"));
  }
  endpoint->port_ = ports.front();
  endpoint->host_ = host;

  HttpEndpoint* self = endpoint.get();
  auto route = [&](const std::string& uri, std::function<void(mg_connection*)> get) {
    endpoint->handlers_.push_back(std::make_unique<Handler>(std::move(get)));
    endpoint->server_->addHandler(uri, endpoint->handlers_.back().get());
  };
  route("/metrics", [self](mg_connection* conn) {
    Reply(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", self->RenderMetrics());
  });
  route("/ready", [self](mg_connection* conn) {
    if (self->ready()) {
      Reply(conn, 200, "OK", "text/plain", "ready\n");
    } else {
      Reply(conn, 503, "Service Unavailable", "text/plain", "shutting down\n");
    }
  });
  route("/live", [](mg_connection* conn) { Reply(conn, 200, "OK", "text/plain", "live\n"); });
  return endpoint;
}

HttpEndpoint::~HttpEndpoint() {
  if (server_ == nullptr) return;
  // civetweb's accept loop polls its sockets with a 2 s timeout and notices mg_stop only
  // then, which would add up to 2 s to every shutdown. A connection wakes it at once;
  // keep poking until close() has returned.
  std::atomic<bool> closed{false};
  std::thread waker([this, &closed] {
    while (!closed.load()) {
      Poke();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  server_->close();
  closed.store(true);
  waker.join();
}

void HttpEndpoint::Poke() const {
  // A wildcard address is reached through the loopback of its family.
  std::string host = host_;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0) return;
  if (const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0); fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

std::string HttpEndpoint::RenderMetrics() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> part = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(part.begin()),
                    std::make_move_iterator(part.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace q8::server
