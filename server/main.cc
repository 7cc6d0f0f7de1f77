// q8serve: gRPC model server for int8 quantized models.
//
// Shutdown: SIGINT/SIGTERM are blocked in every thread (the mask is set here, before
// gRPC or the metrics server start threads, and inherited by them) and received by one
// thread with sigwait; a plain signal handler does not mix with gRPC's threads. On a
// signal: health NOT_SERVING, GET /ready 503 and new connections refused at once; calls
// on open connections are still served for --shutdown-delay-secs (a second signal cuts
// this short) so balancers stop sending; then gRPC stops taking calls and in-flight ones
// get --shutdown-grace-secs; exit 0.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/logging.h"
#include "server/options.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

namespace {

// Waits up to `timeout` for one of `signals`; true if one came.
bool WaitForSignal(const sigset_t& signals, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec ts{.tv_sec = static_cast<time_t>(ns / 1000000000),
                      .tv_nsec = static_cast<long>(ns % 1000000000)};
    if (sigtimedwait(&signals, nullptr, &ts) > 0) return true;
    if (errno != EINTR) return false;  // EAGAIN: the time is up
  }
}

// Writes the ready file atomically (PATH.tmp then rename), so a reader polling for the
// file never sees it half-written.
bool WriteReadyFile(const std::string& path, int grpc_port, int metrics_port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << absl::StrCat("{\"grpc_port\":", grpc_port, ",\"metrics_port\":", metrics_port, "}\n");
    if (!out.good()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  // absl::Mutex's deadlock detection (on in Debian's absl build) records every lock in a
  // global graph: measurable on the request path (GraphCycles in profiles). The unit tests,
  // which link the same code without this call, keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<q8::server::ServerOptions> options = q8::server::ParseOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "q8serve: %s\n%s", std::string(options.status().message()).c_str(),
                 q8::server::Usage().c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(q8::server::Usage().c_str(), stdout);
    return 0;
  }
  if (absl::Status s = q8::server::ConfigureLogging(options->log_format, options->log_level);
      !s.ok()) {
    std::fprintf(stderr, "q8serve: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
    spdlog::critical("pthread_sigmask failed: {}", std::strerror(err));
    return 1;
  }

  absl::StatusOr<std::unique_ptr<q8::server::Server>> server = q8::server::Server::Create(*options);
  if (!server.ok()) {
    spdlog::critical("q8serve cannot start: {}", server.status().ToString());
    return 1;
  }
  if (!options->ready_file.empty()) {
    if (!WriteReadyFile(options->ready_file, (*server)->grpc_port(), (*server)->metrics_port())) {
      spdlog::critical("cannot write ready file {}", options->ready_file);
      (*server)->Shutdown(std::chrono::milliseconds(0));
      return 1;
    }
  }
  spdlog::info("q8serve ready (gRPC port {}, metrics port {})", (*server)->grpc_port(),
               (*server)->metrics_port());

  const std::chrono::seconds delay(options->shutdown_delay_secs);
  const std::chrono::seconds grace(options->shutdown_grace_secs);
  std::thread signal_waiter([&signals, delay, grace, s = server->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    s->SetNotServing();
    spdlog::info(
        "received {}; health NOT_SERVING (GET /ready: 503), new connections refused, still "
        "serving open ones for {} s, then draining in-flight calls for up to {} s",
        sig == SIGTERM ? "SIGTERM" : "SIGINT", delay.count(), grace.count());
    if (WaitForSignal(signals, delay)) {
      spdlog::info("second signal: draining now");
    }
    spdlog::info("draining: no new calls accepted");
    s->Shutdown(grace);
  });
  (*server)->Wait();
  signal_waiter.join();
  const q8::server::Metrics::RequestTotals answered = (*server)->CountRequests();
  server->reset();
  // deploy/test-lb.sh reads the count from this line: the replica's metrics port is
  // gone once it has exited.
  spdlog::info("q8serve stopped; answered {} inference requests ({} OK)", answered.all,
               answered.ok);
  return 0;
}
