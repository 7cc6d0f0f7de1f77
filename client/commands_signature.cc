// `q8c signature`: q8serve.v1 GetSignature. Shows how each logical
// input/output is bound to an engine tensor, and why: as tables by default,
// as JSON with --json.
#include "client/call_args.h"
#include "client/commands.h"
#include "client/q8serve_call.h"
#include "client/q8serve_json.h"
#include "client/signature_listing.h"

namespace q8::client {

int RunSignature(const Args& args) {
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());

  q8serve::v1::GetSignatureRequest req;
  req.set_model_name(call->model);
  req.set_version(call->version);
  req.set_signature_name(args.Get("signature"));
  return CallQ8Serve(
      args, *call, "GetSignature", &q8serve::v1::Q8Serve::Stub::GetSignature, req,
      ResponsePrinters<q8serve::v1::GetSignatureResponse>{SignatureToJson, RenderSignature});
}

}  // namespace q8::client
