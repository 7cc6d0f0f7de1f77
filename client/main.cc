// q8c: command-line client for q8serve (and any TF Serving / KServe v2
// server). Dispatches to one command per file (commands_*.cc).
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/args.h"
#include "client/commands.h"
#include "client/rpc.h"

namespace q8::client {
namespace {

constexpr absl::string_view kOverview = R"(usage: q8c COMMAND [FLAGS]

Commands:
  predict    run a model on .npy / JSON inputs, print outputs as JSON
  metadata   print a model's signatures (TF Serving) or metadata (KServe)
  signature  show how q8serve binds a signature to the model's tensors, and why
  graph      list a loaded model's tensors and nodes, optionally filtered
  health     gRPC health check; exit 0 only when SERVING
  bench      load test of Predict / ModelInfer (closed or open loop), one JSON line
  status     every model version the server knows: state, and why not serving
  reload     make the server rescan its model repository now; show what changed
  help       q8c help COMMAND shows that command's flags

Flags take --name=value or --name value; switches (--json) take no value.
Exit codes: 0 success, 1 RPC error (code and message on stderr), bad
response or not SERVING, 2 usage error or unreadable input.
)";

const std::vector<Command>& Commands() {
  static const std::vector<Command>* commands = new std::vector<Command>{
      {"predict",
       R"(usage: q8c predict --target=HOST:PORT --model=NAME [--version=N]
           [--signature=NAME] [--api=tfs|kserve]
           [--input NAME=FILE.npy ...] [--json-input=FILE_OR_INLINE]
           [--dtype NAME=TYPE ...] [--output-filter=a,b]
           [--output-dir=DIR] [--timeout-ms=N]

  --api          tfs (default): TF Serving PredictionService/Predict with
                 tensor_content; kserve: GRPCInferenceService/ModelInfer with
                 raw_input_contents.
  --input        NAME=FILE.npy; dtypes bool, int8, uint8, int16, uint16,
                 int32, uint32, int64, uint64, float16, float32, float64;
                 little-endian, C order; npy format 1.x/2.x/3.x. Repeatable.
  --json-input   a file, or inline JSON if it starts with '{':
                 {"images": [[0.1, 0.2], [0.3, 0.4]]}. Shapes come from the
                 nesting; numbers are float32, booleans bool, unless --dtype.
  --dtype        NAME=TYPE for a JSON input, e.g. --dtype ids=int64.
  --output-filter  comma-separated output names (default: all).
  --output-dir   also write each output to DIR/NAME.npy.
  --version      model version (default: the server's latest).
  --timeout-ms   RPC deadline (default 30000; 0 = none).

Prints {"model":..,"version":..,"outputs":{"NAME":{"dtype":..,"shape":[..],
"data":[..row-major..]}}}.
)",
       {"target", "model", "version", "signature", "api", "input", "json-input", "dtype",
        "output-filter", "output-dir", "timeout-ms"},
       {"input", "dtype"},
       {},
       RunPredict},
      {"metadata",
       R"(usage: q8c metadata --target=HOST:PORT --model=NAME [--version=N]
           [--api=tfs|kserve] [--timeout-ms=N]

  tfs (default): GetModelMetadata with metadata_field "signature_def";
  kserve: ModelMetadata. Prints JSON.
)",
       {"target", "model", "version", "api", "timeout-ms"},
       {},
       {},
       RunMetadata},
      {"signature",
       R"(usage: q8c signature --target=HOST:PORT --model=NAME [--version=N]
           [--signature=NAME] [--json] [--timeout-ms=N]

  q8serve.v1.Q8Serve/GetSignature: how each logical input/output is bound
  to an engine tensor, and why. Version 0 or absent = latest; signature
  absent = serving_default.

  Prints a table per INPUTS and OUTPUTS:
    NAME → TENSOR  the logical name clients use, and the engine tensor
    DTYPE, SHAPE   what the client sends or receives (? = dynamic)
    CONVERSION     what q8serve does at the boundary, e.g.
                   "quantize float32→uint8 s=0.003922 z=0"; "none" when the
                   client uses the tensor's own type
    RULE           how the binding was made (explicit, exact, boundary_walk..)
    SOURCE         where the logical name was declared
  with each binding's explanation indented on the line below it.

  --json         print the whole response as one line of JSON instead
                 (for scripts; the tables may change between versions).
  --timeout-ms   RPC deadline (default 30000; 0 = none).
)",
       {"target", "model", "version", "signature", "json", "timeout-ms"},
       {},
       {"json"},
       RunSignature},
      {"graph",
       R"(usage: q8c graph --target=HOST:PORT --model=NAME [--version=N]
           [--grep=PATTERN] [--json] [--timeout-ms=N]

  q8serve.v1.Q8Serve/GetGraph: the tensors and nodes of the loaded model.
  Prints a header (model, version, format, file, how many tensors and nodes
  match), then
    TENSORS  name, dtype, shape ([?,64]; ? = dynamic or unknown),
             quantization ("uint8 s=0.003922 z=0", "int8 per-axis(0) ×64"),
             producing op, and IN / OUT for graph inputs and outputs
    NODES    op type, name, inputs → outputs
  Names are never shortened, so they can be pasted into a signature file.

  --grep         RE2 regular expression, searched (not anchored) in tensor
                 names, node names and op types, e.g. --grep='conv|Quantize'.
                 Default: everything.
  --json         print the whole response as one line of JSON instead.
  --version      model version (default: the server's latest).
  --timeout-ms   RPC deadline (default 30000; 0 = none).
)",
       {"target", "model", "version", "grep", "json", "timeout-ms"},
       {},
       {"json"},
       RunGraph},
      {"health",
       R"(usage: q8c health --target=HOST:PORT [--service=NAME] [--timeout-ms=N]

  grpc.health.v1.Health/Check (empty service = whole server). Prints
  SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN; exit 0 only for SERVING.
  Default timeout 5000 ms.
)",
       {"target", "service", "timeout-ms"},
       {},
       {},
       RunHealth},
      {"bench",
       R"(usage: q8c bench --target=HOST:PORT --model=NAME [--version=N]
           [--signature=NAME] [--api=tfs|kserve]
           [--input NAME=FILE.npy ...] [--json-input=FILE_OR_INLINE]
           [--dtype NAME=TYPE ...] [--concurrency=N]
           [--requests=N | --duration-s=S] [--timeout-ms=N]
           [--connect-timeout-ms=N]
           [--qps=R [--arrival=poisson|fixed] [--max-in-flight=N] [--seed=N]]

  Closed loop (default): --concurrency workers (default 8), each with its
  own connection, send the request built as `q8c predict` builds it, back to
  back, until --requests (default 1000) are sent or for --duration-s.
  Open loop (--qps): calls go out at R per second whatever the answers do
  (--arrival: poisson (default) or fixed interval), over --concurrency
  connections, --requests calls or for --duration-s; at most --max-in-flight
  (default 1000) pending, a call due beyond that is dropped. Latency counts
  from each call's scheduled time; a send more than 1 ms behind it is late.
  Inputs and --api as for predict. Every connection is made before the run
  starts (--connect-timeout-ms each, default 10000; exit 1 if one cannot
  connect), so connection set-up is not timed.

Prints one JSON line: {"mode":"closed"|"open","api":..,"concurrency":..,
["target_qps","arrival","max_in_flight","scheduled","sent","dropped","late",
"late_threshold_ms","achieved_qps" (open loop only),] "requests":..,"ok":..,
"errors":{"UNAVAILABLE":..},"duration_s":..,"throughput_per_s":..,
"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..}. Exit 1 if any call failed.
)",
       {"target", "model", "version", "signature", "api", "input", "json-input", "dtype",
        "concurrency", "requests", "duration-s", "timeout-ms", "qps", "arrival", "max-in-flight",
        "seed", "connect-timeout-ms"},
       {"input", "dtype"},
       {},
       RunBench},
      {"status",
       R"(usage: q8c status --target=HOST:PORT [--model=NAME [--version=N]] [--json]
           [--timeout-ms=N]

  q8serve.v1.Q8Serve/GetModelStatus. Per model: its version policy, any
  config.pbtxt error, and each version on disk with its STATE
    available  loaded and serving
    loading    being loaded by a reload in progress; not serving yet
    failed     its last load failed (REASON says why); never serving
    unloaded   on disk but outside the version policy
  Default: every model and version.

  --json         the whole response as one line of JSON (proto field names).
  --timeout-ms   RPC deadline (default 30000; 0 = none).
)",
       {"target", "model", "version", "json", "timeout-ms"},
       {},
       {"json"},
       RunStatus},
      {"reload",
       R"(usage: q8c reload --target=HOST:PORT [--json] [--timeout-ms=N]

  q8serve.v1.Q8Serve/ReloadRepository: the server rescans its model
  repository now (as --repository-poll-secs does periodically), loads new or
  changed versions, unloads removed ones, applies changed config.pbtxt files,
  and answers when the new versions serve. Prints each CHANGE (loaded,
  reloaded, failed, unloaded) with its reason, then every model's status as
  `q8c status` does. Exit 1 if a version or config failed to load (the
  versions that served before keep serving).

  --json         the whole response as one line of JSON (proto field names).
  --timeout-ms   RPC deadline (default 300000; 0 = none).
)",
       {"target", "json", "timeout-ms"},
       {},
       {"json"},
       RunReload},
  };
  return *commands;
}

const Command* Find(absl::string_view name) {
  for (const Command& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

int UsageError(absl::string_view message) {
  std::cerr << "q8c: " << message << "\n(q8c help COMMAND lists its flags)\n";
  return kExitUsage;
}

int Main(int argc, char** argv) {
  std::vector<std::string> rest(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (rest.empty()) {
    std::cerr << kOverview;
    return kExitUsage;
  }
  const std::string cmd = rest.front();
  rest.erase(rest.begin());
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (!rest.empty()) {
      if (const Command* c = Find(rest.front())) {
        std::cout << c->usage;
        return kExitOk;
      }
      return UsageError("unknown command '" + rest.front() + "'");
    }
    std::cout << kOverview;
    return kExitOk;
  }
  const Command* c = Find(cmd);
  if (c == nullptr) return UsageError("unknown command '" + cmd + "'");
  for (const std::string& a : rest) {
    if (a == "--help" || a == "-h") {
      std::cout << c->usage;
      return kExitOk;
    }
  }
  absl::StatusOr<Args> args = Args::Parse(rest, c->flags, c->repeatable, c->switches);
  if (!args.ok()) {
    std::cerr << "q8c " << cmd << ": " << args.status().message() << "\n\n" << c->usage;
    return kExitUsage;
  }
  return c->run(*args);
}

}  // namespace q8::client

int main(int argc, char** argv) { return q8::client::Main(argc, argv); }
