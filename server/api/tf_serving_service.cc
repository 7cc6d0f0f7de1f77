#include "server/api/tf_serving_service.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/api/grpc_status.h"
#include "server/api/inference_call.h"
#include "server/api/tf_tensor_codec.h"
#include "tensorflow/core/protobuf/meta_graph.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"

namespace q8::server {
namespace {

constexpr char kSignatureDefField[] = "signature_def";

absl::StatusOr<std::optional<int64_t>> VersionOf(const tensorflow::serving::ModelSpec& spec) {
  if (spec.name().empty()) {
    return absl::InvalidArgumentError("model_spec.name is required");
  }
  switch (spec.version_choice_case()) {
    case tensorflow::serving::ModelSpec::kVersion:
      return std::optional<int64_t>(spec.version().value());
    case tensorflow::serving::ModelSpec::kVersionLabel:
      return absl::InvalidArgumentError(absl::StrCat(
          "model_spec.version_label '", spec.version_label(),
          "' cannot be resolved: q8serve has no version labels; set model_spec.version or "
          "leave both unset for the latest version"));
    case tensorflow::serving::ModelSpec::VERSION_CHOICE_NOT_SET:
      break;
  }
  return std::optional<int64_t>();
}

void FillTensorInfo(const SignatureTensor& t, tensorflow::TensorInfo* out) {
  // TF Serving puts the graph tensor's name here and uses the logical name as the map
  // key; we do the same with the engine tensor name.
  out->set_name(t.info.name);
  out->set_dtype(DTypeToTf(t.dtype));
  ShapeToTf(t.shape, out->mutable_tensor_shape());
}

// The --max-message-bytes check comes first: an oversize request costs no decoding.
absl::Status DecodePredict(const tensorflow::serving::PredictRequest& request,
                           int64_t max_message_bytes, InferenceRequest* inference) {
  inference->api = Api::kTfServing;
  inference->model_name = request.model_spec().name();
  if (absl::Status s = CheckMessageSize(request, max_message_bytes, "Predict request"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::optional<int64_t>> version = VersionOf(request.model_spec());
  if (!version.ok()) return version.status();
  inference->version = *version;
  inference->signature_name = request.model_spec().signature_name();
  for (const auto& [name, proto] : request.inputs()) {
    absl::StatusOr<engine::Tensor> tensor = DecodeTensorProto(name, proto);
    if (!tensor.ok()) return tensor.status();
    if (absl::Status s = inference->AddInput(name, *std::move(tensor)); !s.ok()) return s;
  }
  inference->output_names.assign(request.output_filter().begin(), request.output_filter().end());
  return absl::OkStatus();
}

absl::Status EncodePredict(const absl::StatusOr<InferenceResponse>& result,
                           int64_t max_message_bytes,
                           tensorflow::serving::PredictResponse* response) {
  if (!result.ok()) return result.status();
  for (const NamedTensor& out : result->outputs) {
    tensorflow::TensorProto& proto = (*response->mutable_outputs())[out.name];
    if (absl::Status s = EncodeTensorProto(out.tensor, &proto); !s.ok()) return s;
  }
  tensorflow::serving::ModelSpec* spec = response->mutable_model_spec();
  spec->set_name(result->model_name);
  spec->mutable_version()->set_value(result->version);
  spec->set_signature_name(result->signature_name);
  // The model ran (and is counted OK in the request metrics); only the reply is too big.
  return CheckMessageSize(*response, max_message_bytes, "Predict response");
}

}  // namespace

grpc::ServerUnaryReactor* TfServingService::Predict(
    grpc::CallbackServerContext* context, const tensorflow::serving::PredictRequest* request,
    tensorflow::serving::PredictResponse* response) {
  return ServeInferenceCall(
      context, *core_, request_ids_, Api::kTfServing, request->model_spec().name(),
      [this, request](InferenceRequest* inference) { return Decode(*request, inference); },
      [response, limit = max_message_bytes_](const absl::StatusOr<InferenceResponse>& result) {
        return EncodePredict(result, limit, response);
      });
}

grpc::ServerUnaryReactor* TfServingService::GetModelMetadata(
    grpc::CallbackServerContext* context,
    const tensorflow::serving::GetModelMetadataRequest* request,
    tensorflow::serving::GetModelMetadataResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(GuardedCall([&] { return DoGetModelMetadata(*request, response); }));
  return reactor;
}

absl::Status TfServingService::Decode(const tensorflow::serving::PredictRequest& request,
                                      InferenceRequest* inference) const {
  const auto start = std::chrono::steady_clock::now();
  absl::Status decoded = DecodePredict(request, max_message_bytes_, inference);
  if (!decoded.ok()) {
    core_->RecordRejected(
        inference->model_name, inference->api, decoded,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return decoded;
}

absl::Status TfServingService::DoPredict(const tensorflow::serving::PredictRequest& request,
                                         tensorflow::serving::PredictResponse* response) const {
  InferenceRequest inference;
  if (absl::Status decoded = Decode(request, &inference); !decoded.ok()) return decoded;
  return EncodePredict(core_->Predict(inference), max_message_bytes_, response);
}

absl::Status TfServingService::DoGetModelMetadata(
    const tensorflow::serving::GetModelMetadataRequest& request,
    tensorflow::serving::GetModelMetadataResponse* response) const {
  absl::StatusOr<std::optional<int64_t>> version = VersionOf(request.model_spec());
  if (!version.ok()) return version.status();
  if (request.metadata_field().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("GetModelMetadataRequest must name at least one metadata_field; supported: ",
                     kSignatureDefField));
  }
  for (const std::string& field : request.metadata_field()) {
    if (field != kSignatureDefField) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Metadata field '", field, "' is not supported; supported: ", kSignatureDefField));
    }
  }
  std::shared_ptr<const ServingMap> map = core_->repository().Snapshot();
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      map->Find(request.model_spec().name(), *version);
  if (!servable.ok()) return servable.status();

  tensorflow::serving::SignatureDefMap signatures;
  for (const auto& [name, signature] : (*servable)->signatures) {
    tensorflow::SignatureDef& def = (*signatures.mutable_signature_def())[name];
    def.set_method_name(kPredictMethodName);
    for (const SignatureTensor& t : signature.inputs) {
      FillTensorInfo(t, &(*def.mutable_inputs())[t.logical_name]);
    }
    for (const SignatureTensor& t : signature.outputs) {
      FillTensorInfo(t, &(*def.mutable_outputs())[t.logical_name]);
    }
  }
  (*response->mutable_metadata())[kSignatureDefField].PackFrom(signatures);
  tensorflow::serving::ModelSpec* spec = response->mutable_model_spec();
  spec->set_name((*servable)->name);
  spec->mutable_version()->set_value((*servable)->version);
  return absl::OkStatus();
}

}  // namespace q8::server
