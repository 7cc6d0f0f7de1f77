// `q8c metadata`: TF Serving GetModelMetadata (signature_def) or KServe
// ModelMetadata, printed as JSON.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/call_args.h"
#include "client/commands.h"
#include "client/json.h"
#include "client/rpc.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace q8::client {
namespace {

template <typename Map>
std::vector<std::string> SortedKeys(const Map& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

void WriteTensorInfo(const tensorflow::TensorInfo& info, JsonWriter& w) {
  w.BeginObject().Key("name").String(info.name());
  w.Key("dtype").String(tensorflow::DataType_Name(info.dtype()));
  w.Key("shape");
  if (info.tensor_shape().unknown_rank()) {
    w.Null();
  } else {
    w.BeginArray();
    for (const auto& d : info.tensor_shape().dim()) w.Int(d.size());
    w.EndArray();
  }
  w.EndObject();
}

void WriteTensorInfoMap(const google::protobuf::Map<std::string, tensorflow::TensorInfo>& m,
                        JsonWriter& w) {
  w.BeginObject();
  for (const std::string& k : SortedKeys(m)) {
    w.Key(k);
    WriteTensorInfo(m.at(k), w);
  }
  w.EndObject();
}

int MetadataTfs(const ModelCallArgs& call) {
  tensorflow::serving::GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name(call.model);
  if (call.version > 0) req.mutable_model_spec()->mutable_version()->set_value(call.version);
  req.add_metadata_field("signature_def");

  auto stub = tensorflow::serving::PredictionService::NewStub(MakeChannel(call.target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call.timeout_ms);
  tensorflow::serving::GetModelMetadataResponse resp;
  grpc::Status status = stub->GetModelMetadata(&ctx, req, &resp);
  if (!status.ok()) return ReportRpcError("GetModelMetadata", status);

  auto it = resp.metadata().find("signature_def");
  tensorflow::serving::SignatureDefMap sigs;
  if (it == resp.metadata().end() || !it->second.UnpackTo(&sigs)) {
    std::cerr << "q8c: bad response: metadata[\"signature_def\"] is missing or "
                 "is not a tensorflow.serving.SignatureDefMap\n";
    return kExitFailure;
  }
  JsonWriter w;
  w.BeginObject().Key("model").String(resp.model_spec().name()).Key("version");
  if (resp.model_spec().has_version()) {
    w.Int(resp.model_spec().version().value());
  } else {
    w.Null();
  }
  w.Key("signature_def").BeginObject();
  for (const std::string& name : SortedKeys(sigs.signature_def())) {
    const tensorflow::SignatureDef& sig = sigs.signature_def().at(name);
    w.Key(name).BeginObject().Key("method_name").String(sig.method_name());
    w.Key("inputs");
    WriteTensorInfoMap(sig.inputs(), w);
    w.Key("outputs");
    WriteTensorInfoMap(sig.outputs(), w);
    w.EndObject();
  }
  w.EndObject().EndObject();
  std::cout << w.str() << "\n";
  return kExitOk;
}

void WriteKServeTensors(const google::protobuf::RepeatedPtrField<
                            inference::ModelMetadataResponse::TensorMetadata>& tensors,
                        JsonWriter& w) {
  w.BeginArray();
  for (const auto& t : tensors) {
    w.BeginObject().Key("name").String(t.name()).Key("datatype").String(t.datatype());
    w.Key("shape").BeginArray();
    for (int64_t d : t.shape()) w.Int(d);
    w.EndArray().EndObject();
  }
  w.EndArray();
}

int MetadataKServe(const ModelCallArgs& call) {
  inference::ModelMetadataRequest req;
  req.set_name(call.model);
  if (call.version > 0) req.set_version(absl::StrCat(call.version));

  auto stub = inference::GRPCInferenceService::NewStub(MakeChannel(call.target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call.timeout_ms);
  inference::ModelMetadataResponse resp;
  grpc::Status status = stub->ModelMetadata(&ctx, req, &resp);
  if (!status.ok()) return ReportRpcError("ModelMetadata", status);

  JsonWriter w;
  w.BeginObject().Key("name").String(resp.name()).Key("versions").BeginArray();
  for (const std::string& v : resp.versions()) w.String(v);
  w.EndArray().Key("platform").String(resp.platform());
  w.Key("inputs");
  WriteKServeTensors(resp.inputs(), w);
  w.Key("outputs");
  WriteKServeTensors(resp.outputs(), w);
  w.EndObject();
  std::cout << w.str() << "\n";
  return kExitOk;
}

}  // namespace

int RunMetadata(const Args& args) {
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());
  const std::string api = args.Get("api", "tfs");
  if (api == "tfs") return MetadataTfs(*call);
  if (api == "kserve") return MetadataKServe(*call);
  return UsageError(absl::StrCat("--api must be tfs or kserve, got '", api, "'"));
}

}  // namespace q8::client
