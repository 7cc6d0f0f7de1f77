// q8serve: gRPC model server for int8 quantized models.
//
// Shutdown: SIGINT/SIGTERM are blocked in every thread (the mask is set here, before
// gRPC or the metrics server start threads, and inherited by them) and received by one
// thread with sigwait; a plain signal handler does not mix with gRPC's threads. On a
// signal health turns NOT_SERVING, in-flight calls get 5 s, and the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/options.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

namespace {

constexpr std::chrono::seconds kShutdownGrace(5);

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
  spdlog::set_level(spdlog::level::from_str(options->log_level));

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

  std::thread signal_waiter([&signals, s = server->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received {}; health NOT_SERVING, draining for up to {} s",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", kShutdownGrace.count());
    s->Shutdown(kShutdownGrace);
  });
  (*server)->Wait();
  signal_waiter.join();
  server->reset();
  spdlog::info("q8serve stopped");
  return 0;
}
