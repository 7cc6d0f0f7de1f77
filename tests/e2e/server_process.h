// A q8serve child process for end-to-end tests: spawned with posix_spawn, its output
// captured in a log file, its ports read from the --ready-file it writes. Every wait is
// bounded. Not thread-safe; one owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace q8::e2e {

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();  // SIGKILLs a still-running child
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns `binary` with `args` plus --ready-file=<temp>; output goes to a log file.
  // False (and error() says why) if the spawn fails.
  bool Start(const std::string& binary, std::vector<std::string> args);

  // Polls for the ready file, at most `timeout`. False if it does not appear in time or
  // the process exits first (exit_code() then tells how).
  bool WaitReady(std::chrono::milliseconds timeout);

  // Sends `signal` and waits at most `timeout` for the exit. The exit code (128+signal
  // for a signal death), or nullopt on timeout (the child is then SIGKILLed).
  std::optional<int> Stop(int signal, std::chrono::milliseconds timeout);

  // Waits at most `timeout` for the child to exit on its own.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  std::string grpc_address() const;
  std::string log() const;  // everything the server printed so far
  const std::string& error() const { return error_; }

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string dir_;  // temp dir holding the ready file and the log
  std::string ready_file_;
  std::string log_file_;
  std::string error_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

// GET http://127.0.0.1:port/path with a bounded socket timeout; the response body, or
// "" on any failure.
std::string HttpGet(int port, const std::string& path);
// The same, but the whole response: status line, headers and body.
std::string HttpGetRaw(int port, const std::string& path);

}  // namespace q8::e2e
