// `q8c graph`: q8serve.v1 GetGraph. Lists a loaded model's tensors (dtype,
// shape, quantization, producer) and nodes, optionally filtered by --grep,
// so a signature can be checked against the graph without a Python session.
#include "client/call_args.h"
#include "client/commands.h"
#include "client/graph_listing.h"
#include "client/q8serve_call.h"
#include "client/q8serve_json.h"

namespace q8::client {

int RunGraph(const Args& args) {
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());

  q8serve::v1::GetGraphRequest req;
  req.set_model_name(call->model);
  req.set_version(call->version);
  // The server compiles the pattern (RE2) and answers INVALID_ARGUMENT for a
  // bad one, so q8c needs no regex library of its own.
  req.set_pattern(args.Get("grep"));
  return CallQ8Serve(args, *call, "GetGraph", &q8serve::v1::Q8Serve::Stub::GetGraph, req,
                     ResponsePrinters<q8serve::v1::GetGraphResponse>{GraphToJson, RenderGraph});
}

}  // namespace q8::client
