#include "server/grpc_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace q8::server {
namespace {

absl::Status Errno(absl::string_view what, const std::string& address) {
  return absl::UnavailableError(
      absl::StrCat("cannot listen for gRPC on ", address, ": ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcListener>> GrpcListener::Bind(const std::string& host,
                                                                 int port) {
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const std::string address = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int err = getaddrinfo(name.empty() ? nullptr : name.c_str(),
                                  std::to_string(port).c_str(), &hints, &found);
      err != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", address, ": ", gai_strerror(err)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);

  std::unique_ptr<GrpcListener> listener(new GrpcListener());
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno("socket", address);
  listener->listen_fd_ = fd;
  const int one = 1;
  const int zero = 0;
  // As gRPC's own listener: restart without waiting for TIME_WAIT; an IPv6 wildcard
  // takes IPv4 too. No SO_REUSEPORT: a second server on the port must fail, not share.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (found->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) return Errno("bind", address);
  if (listen(fd, SOMAXCONN) != 0) return Errno("listen", address);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return Errno("getsockname", address);
  }
  listener->port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (listener->wake_fd_ < 0) return Errno("eventfd", address);
  return listener;
}

void GrpcListener::Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor) {
  acceptor_ = std::move(acceptor);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void GrpcListener::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!closed_.load()) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("gRPC listener: poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // Close()
    // Accept everything pending; EAGAIN when done.
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        // EAGAIN: nothing left. EMFILE & co: the connection waits in the backlog; back
        // off instead of spinning on it.
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          spdlog::warn("gRPC listener: accept failed: {}", std::strerror(errno));
          poll(nullptr, 0, 100);
        }
        break;
      }
      // gRPC's own listener makes its sockets low latency; small replies must not wait
      // for Nagle.
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters p;
      p.listener_fd = listen_fd_;
      p.fd = fd;  // gRPC owns it from here
      acceptor_->HandleNewConnection(&p);
    }
  }
}

void GrpcListener::Close() {
  if (closed_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  listen_fd_ = -1;
  wake_fd_ = -1;
}

GrpcListener::~GrpcListener() { Close(); }

}  // namespace q8::server
