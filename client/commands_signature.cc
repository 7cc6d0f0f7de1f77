// `q8c signature`: q8serve.v1 GetSignature, printed as JSON. Shows how each
// logical input/output is bound to an engine tensor, and why.
#include <iostream>
#include <string>

#include "client/commands.h"
#include "client/json.h"
#include "client/rpc.h"
#include "q8serve/v1/q8serve.grpc.pb.h"

namespace q8::client {
namespace {

void WriteBinding(const q8serve::v1::TensorBinding& b, JsonWriter& w) {
  w.BeginObject();
  w.Key("logical_name").String(b.logical_name());
  w.Key("tensor_name").String(b.tensor_name());
  w.Key("dtype").String(b.dtype());
  w.Key("shape").BeginArray();
  for (int64_t d : b.shape()) w.Int(d);
  w.EndArray();
  w.Key("quant");
  if (b.has_quant()) {
    const q8serve::v1::QuantParams& q = b.quant();
    w.BeginObject().Key("scales").BeginArray();
    for (float s : q.scales()) w.Float(s);
    w.EndArray().Key("zero_points").BeginArray();
    for (int64_t z : q.zero_points()) w.Int(z);
    w.EndArray();
    w.Key("per_channel").Bool(q.per_channel());
    w.Key("axis").Int(q.axis());
    w.Key("storage_dtype").String(q.storage_dtype());
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("rule").String(b.rule());
  w.Key("explanation").String(b.explanation());
  w.EndObject();
}

}  // namespace

int RunSignature(const Args& args) {
  absl::StatusOr<std::string> target = args.Require("target");
  if (!target.ok()) return UsageError(target.status().message());
  absl::StatusOr<std::string> model = args.Require("model");
  if (!model.ok()) return UsageError(model.status().message());
  absl::StatusOr<int64_t> version = args.GetInt("version", 0);
  if (!version.ok()) return UsageError(version.status().message());
  if (*version < 0) return UsageError("--version must be positive");
  absl::StatusOr<int64_t> timeout = args.GetInt("timeout-ms", 30000);
  if (!timeout.ok()) return UsageError(timeout.status().message());

  q8serve::v1::GetSignatureRequest req;
  req.set_model_name(*model);
  req.set_version(*version);
  req.set_signature_name(args.Get("signature"));

  auto stub = q8serve::v1::Q8Serve::NewStub(MakeChannel(*target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, *timeout);
  q8serve::v1::GetSignatureResponse resp;
  grpc::Status status = stub->GetSignature(&ctx, req, &resp);
  if (!status.ok()) return ReportRpcError("GetSignature", status);

  JsonWriter w;
  w.BeginObject();
  w.Key("model_name").String(resp.model_name());
  w.Key("version").Int(resp.version());
  w.Key("signature_name").String(resp.signature_name());
  w.Key("inputs").BeginArray();
  for (const auto& b : resp.inputs()) WriteBinding(b, w);
  w.EndArray().Key("outputs").BeginArray();
  for (const auto& b : resp.outputs()) WriteBinding(b, w);
  w.EndArray().EndObject();
  std::cout << w.str() << "\n";
  return kExitOk;
}

}  // namespace q8::client
