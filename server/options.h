// Command-line options of the q8serve binary.
//
//   q8serve --model-repository=DIR [--grpc-port=8500] [--metrics-port=8502]
//           [--host=0.0.0.0] [--threads=0] [--ready-file=PATH] [--log-level=info]
//           [--log-format=text] [--repository-poll-secs=0] [--load-threads=0] [--workers=0]
//           [--max-message-bytes=N] [--grpc-max-connection-age-secs=0]
//           [--grpc-max-connection-age-grace-secs=0] [--shutdown-delay-secs=2]
//           [--shutdown-grace-secs=5]
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
  // How log lines look: "text" (spdlog's human format) or "json" (one JSON object per
  // line: time, level, message and the event's fields, e.g. request_id), for log
  // collectors that parse lines.
  std::string log_format = "text";
  // Largest request and response message of an inference call, in bytes. gRPC's 4 MiB
  // default is too small for batches of images; larger requests cost memory per
  // in-flight call. A Predict/ModelInfer request or response over it fails with
  // RESOURCE_EXHAUSTED naming this flag; gRPC itself refuses messages over twice this
  // (before parsing them), with its own message.
  int max_message_bytes = 64 << 20;

  // --- Connections ---
  // Close each client connection (GOAWAY, the client reconnects transparently) after
  // about this many seconds (gRPC adds +-10 % jitter). Behind an L4 balancer (kube-proxy,
  // a TCP load balancer) a client's calls stay on the replica its connection was made
  // to; a maximum age makes long-lived clients spread over new replicas too. 0 = never
  // (gRPC's default). Costs one reconnect per client per age.
  int grpc_max_connection_age_secs = 0;
  // After the age GOAWAY, calls still running on the old connection get this long before
  // it is closed under them. 0 = no limit: they always finish.
  int grpc_max_connection_age_grace_secs = 0;

  // --- Shutdown (SIGTERM / SIGINT) ---
  // On the signal, health turns NOT_SERVING, GET /ready on the metrics port answers 503
  // and new connections are refused, at once; calls on the connections already open
  // are still served for this many seconds, so balancers stop sending first (HAProxy's
  // /ready check runs every 0.5 s in deploy/lb/haproxy.cfg; nginx is refused on its
  // next reconnect; Kubernetes endpoint removal takes a few seconds). Calls that reach
  // gRPC after the drain below began are cancelled by it, so this must cover the
  // balancer's detection time. 0 = drain at once (a lone server, no balancer).
  int shutdown_delay_secs = 2;
  // Then gRPC stops accepting calls and the calls in flight (queued in a model's request
  // queue or running) get up to this long to finish; any still open are cancelled (a
  // queued one still runs; its answer is dropped). Connections with no call in flight are
  // closed as soon as none is left, so idle clients do not hold the exit. The process
  // exits 0 after at most shutdown_delay_secs + shutdown_grace_secs (+ about 1 s). A
  // second signal skips what is left of the delay.
  int shutdown_grace_secs = 5;

  // --- Model repository ---
  // Rescan the model repository every this many seconds: new versions load, removed
  // ones unload, changed config.pbtxt files apply. 0 = never (reload with the
  // ReloadRepository RPC, `q8c reload`). A rescan that finds nothing changed only lists
  // directories and stats files.
  int repository_poll_secs = 0;
  // Model versions that load at once (every reload: startup, poll, RPC), on the
  // repository's load pool, never on request threads. 0 = min(2, cores). Loads are
  // CPU-bound (compile, weight packing, warm-up runs with --threads engine threads each)
  // and a reloaded version's memory is held twice until the swap: more threads make a
  // reload of many models shorter, at the price of peak memory and of CPU taken from the
  // requests being served. 1 = one load at a time.
  int load_threads = 0;

  // Set by --help: print Usage() and exit 0.
  bool help = false;
};

// INVALID_ARGUMENT naming the flag and the reason (unknown flag, bad number, missing
// --model-repository, port out of range).
absl::StatusOr<ServerOptions> ParseOptions(const std::vector<std::string>& args);

// The usage text for --help and errors.
std::string Usage();

}  // namespace q8::server
