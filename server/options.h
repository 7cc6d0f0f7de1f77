// Command-line options of the q8serve binary.
//
//   q8serve --model-repository=DIR [--grpc-port=8500] [--metrics-port=8502]
//           [--host=0.0.0.0] [--threads=0] [--ready-file=PATH] [--log-level=info]
//           [--repository-poll-secs=0] [--workers=0]
//
// Parsed by hand (`--name=value` or `--name value`) rather than with absl flags, so
// options are a plain value with no global flag registry, and tests can parse freely.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace q8::server {

struct ServerOptions {
  // Required. Layout <dir>/<model>/<version>/model.onnx.
  std::string model_repository;
  // Address both listeners bind. 0.0.0.0 serves every interface; 127.0.0.1 keeps the
  // server local (tests, a sidecar behind a proxy).
  std::string host = "0.0.0.0";
  // gRPC port for all services. 0 picks a free port (logged, and written to the ready
  // file). 8500 is TF Serving's gRPC port, so existing clients work unchanged.
  int grpc_port = 8500;
  // HTTP port of GET /metrics (Prometheus). 0 picks a free port.
  int metrics_port = 8502;
  // Threads one model run may use (engine::LoadOptions::threads). 0 = all cores: best
  // latency for one request; 1 gives the best throughput under many concurrent ones.
  int threads = 0;
  // Worker threads per model version (each runs one batch at a time with its own run
  // context) when the model's config.pbtxt leaves instances.workers at 0. 0 = as many as
  // fit the cores at --threads per run: cores / threads, or 1 when --threads is 0.
  int workers = 0;
  // When set, {"grpc_port":N,"metrics_port":M} is written here (atomically: PATH.tmp then
  // rename) once both listeners serve. Lets scripts and tests use port 0.
  std::string ready_file;
  // spdlog level: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // Largest request message accepted. gRPC's 4 MiB default is too small for batches of
  // images; larger requests cost memory per in-flight call.
  int max_message_bytes = 64 << 20;

  // --- Model repository ---
  // Rescan the model repository every this many seconds: new versions load, removed
  // ones unload, changed config.pbtxt files apply. 0 = never (reload with the
  // ReloadRepository RPC, `q8c reload`). A rescan that finds nothing changed only lists
  // directories and stats files.
  int repository_poll_secs = 0;

  // Set by --help: print Usage() and exit 0.
  bool help = false;
};

// INVALID_ARGUMENT naming the flag and the reason (unknown flag, bad number, missing
// --model-repository, port out of range).
absl::StatusOr<ServerOptions> ParseOptions(const std::vector<std::string>& args);

// The usage text for --help and errors.
std::string Usage();

}  // namespace q8::server
