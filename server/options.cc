#include "server/options.h"

#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace q8::server {
namespace {

absl::Status ParseInt(absl::string_view flag, const std::string& value, int min, int max,
                      int* out) {
  int v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value, ": expected an integer in [", min, ", ", max, "]"));
  }
  *out = v;
  return absl::OkStatus();
}

}  // namespace

std::string Usage() {
  return "usage: q8serve --model-repository=DIR [--grpc-port=8500] [--metrics-port=8502]\n"
         "               [--host=0.0.0.0] [--threads=0] [--ready-file=PATH]\n"
         "               [--log-level=info] [--log-format=text] [--repository-poll-secs=0]\n"
         "               [--load-threads=0] [--workers=0] [--max-message-bytes=67108864]\n"
         "               [--grpc-max-connection-age-secs=0]\n"
         "               [--grpc-max-connection-age-grace-secs=0] [--shutdown-delay-secs=2]\n"
         "               [--shutdown-grace-secs=5]\n"
         "  --model-repository  models as DIR/<model>/<version>/model.onnx (required)\n"
         "  --grpc-port         gRPC port (TF Serving, KServe v2, q8serve.v1); 0 = any free\n"
         "  --metrics-port      HTTP port of GET /metrics (Prometheus) and GET /ready\n"
         "                      (200 serving, 503 shutting down); 0 = any free\n"
         "  --host              address to bind both listeners\n"
         "  --threads           threads per model run; 0 = all cores\n"
         "  --workers           workers per model version (config instances.workers wins);\n"
         "                      0 = cores / threads, 1 when --threads is 0\n"
         "  --ready-file        write {\"grpc_port\":N,\"metrics_port\":M} here when serving\n"
         "  --log-level         trace|debug|info|warn|error|critical|off\n"
         "  --log-format        text|json (one JSON object per line)\n"
         "  --repository-poll-secs  rescan the repository every N s for new, removed or\n"
         "                      changed versions and config.pbtxt; 0 = only on `q8c reload`\n"
         "  --load-threads      model versions loading at once (at startup and reloads);\n"
         "                      0 = min(2, cores)\n"
         "  --max-message-bytes largest inference request or response; over it the call\n"
         "                      fails with RESOURCE_EXHAUSTED\n"
         "  --grpc-max-connection-age-secs  GOAWAY each client connection after ~N s so\n"
         "                      clients rebalance behind L4 balancers; 0 = never\n"
         "  --grpc-max-connection-age-grace-secs  then give its calls N s; 0 = no limit\n"
         "  --shutdown-delay-secs  on SIGTERM: NOT_SERVING at once, keep serving N s so\n"
         "                      balancers stop sending, then drain\n"
         "  --shutdown-grace-secs  drain: in-flight calls (queued or running) get N s,\n"
         "                      then are cancelled\n";
}

absl::StatusOr<ServerOptions> ParseOptions(const std::vector<std::string>& args) {
  ServerOptions options;
  using Setter = std::function<absl::Status(const std::string&)>;
  const std::map<std::string, Setter, std::less<>> setters = {
      {"model-repository",
       [&](const std::string& v) {
         options.model_repository = v;
         return absl::OkStatus();
       }},
      {"host",
       [&](const std::string& v) {
         options.host = v;
         return absl::OkStatus();
       }},
      {"grpc-port",
       [&](const std::string& v) {
         return ParseInt("grpc-port", v, 0, 65535, &options.grpc_port);
       }},
      {"metrics-port",
       [&](const std::string& v) {
         return ParseInt("metrics-port", v, 0, 65535, &options.metrics_port);
       }},
      {"threads",
       [&](const std::string& v) { return ParseInt("threads", v, 0, 4096, &options.threads); }},
      {"workers",
       [&](const std::string& v) { return ParseInt("workers", v, 0, 1024, &options.workers); }},
      {"ready-file",
       [&](const std::string& v) {
         options.ready_file = v;
         return absl::OkStatus();
       }},
      {"log-level",
       [&](const std::string& v) {
         static constexpr absl::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};
         for (absl::string_view level : kLevels) {
           if (v == level) {
             options.log_level = v;
             return absl::OkStatus();
           }
         }
         return absl::InvalidArgumentError(
             absl::StrCat("--log-level=", v, ": expected one of ", absl::StrJoin(kLevels, ", ")));
       }},
      {"log-format",
       [&](const std::string& v) {
         if (v != "text" && v != "json") {
           return absl::InvalidArgumentError(
               absl::StrCat("--log-format=", v, ": expected text or json"));
         }
         options.log_format = v;
         return absl::OkStatus();
       }},
      // gRPC's limits are ints, and the server refuses over twice this (see options.h).
      {"max-message-bytes",
       [&](const std::string& v) {
         return ParseInt("max-message-bytes", v, 1024, 1 << 30, &options.max_message_bytes);
       }},
      // Connections.
      {"grpc-max-connection-age-secs",
       [&](const std::string& v) {
         return ParseInt("grpc-max-connection-age-secs", v, 0, 30 * 86400,
                         &options.grpc_max_connection_age_secs);
       }},
      {"grpc-max-connection-age-grace-secs",
       [&](const std::string& v) {
         return ParseInt("grpc-max-connection-age-grace-secs", v, 0, 86400,
                         &options.grpc_max_connection_age_grace_secs);
       }},
      // Shutdown.
      {"shutdown-delay-secs",
       [&](const std::string& v) {
         return ParseInt("shutdown-delay-secs", v, 0, 3600, &options.shutdown_delay_secs);
       }},
      {"shutdown-grace-secs",
       [&](const std::string& v) {
         return ParseInt("shutdown-grace-secs", v, 0, 3600, &options.shutdown_grace_secs);
       }},
      // Model repository.
      {"repository-poll-secs",
       [&](const std::string& v) {
         return ParseInt("repository-poll-secs", v, 0, 86400, &options.repository_poll_secs);
       }},
      {"load-threads",
       [&](const std::string& v) {
         return ParseInt("load-threads", v, 0, 64, &options.load_threads);
       }},
  };

  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      return options;
    }
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    arg.remove_prefix(2);
    std::string name;
    std::string value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    auto it = setters.find(name);
    if (it == setters.end()) {
      std::vector<absl::string_view> known;
      for (const auto& [flag, setter] : setters) known.push_back(flag);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; known: --", absl::StrJoin(known, ", --")));
    }
    if (absl::Status s = it->second(value); !s.ok()) return s;
  }
  if (options.model_repository.empty()) {
    return absl::InvalidArgumentError("--model-repository is required");
  }
  return options;
}

}  // namespace q8::server
