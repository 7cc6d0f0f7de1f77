#include "tests/e2e/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace q8::e2e {
namespace {

constexpr std::chrono::milliseconds kPollInterval(20);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_code_.has_value()) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

bool ServerProcess::Start(const std::string& binary, std::vector<std::string> args) {
  std::string pattern = (std::filesystem::temp_directory_path() / "q8serve_e2e_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return false;
  }
  dir_ = pattern;
  ready_file_ = dir_ + "/ready.json";
  log_file_ = dir_ + "/server.log";
  args.insert(args.begin(), binary);
  args.push_back("--ready-file=" + ready_file_);

  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // The child starts with default signal handling and an empty mask whatever the test
  // runner uses, so SIGTERM reaches the server's own sigwait logic.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int err = posix_spawn(&pid_, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    error_ = std::string("posix_spawn ") + binary + ": " + std::strerror(err);
    pid_ = -1;
    return false;
  }
  return true;
}

bool ServerProcess::Reap(bool block) {
  if (exit_code_.has_value()) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ServerProcess::WaitReady(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The server writes PATH.tmp and renames it, so a file that exists is complete.
  static const std::regex kPorts(R"re("grpc_port"\s*:\s*(\d+)\s*,\s*"metrics_port"\s*:\s*(\d+))re");
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(ready_file_)) {
      const std::string text = ReadFile(ready_file_);
      std::smatch m;
      if (!std::regex_search(text, m, kPorts)) {
        error_ = "ready file has no ports: " + text;
        return false;
      }
      grpc_port_ = std::stoi(m[1]);
      metrics_port_ = std::stoi(m[2]);
      return true;
    }
    if (Reap(/*block=*/false)) {
      error_ = "server exited with code " + std::to_string(*exit_code_) + " before ready";
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  error_ = "no ready file after " + std::to_string(timeout.count()) + " ms";
  return false;
}

std::optional<int> ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(/*block=*/false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
  return exit_code_;
}

std::optional<int> ServerProcess::Stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (!exit_code_.has_value()) kill(pid_, signal);
  std::optional<int> code = WaitExit(timeout);
  if (!code.has_value()) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  return code;
}

std::string ServerProcess::grpc_address() const {
  return "127.0.0.1:" + std::to_string(grpc_port_);
}

std::string ServerProcess::log() const { return ReadFile(log_file_); }

std::string HttpGet(int port, const std::string& path) {
  const std::string response = HttpGetRaw(port, path);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

std::string HttpGetRaw(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    // HTTP/1.0: the server closes the connection after the body, so read to EOF.
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[8192];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

}  // namespace q8::e2e
