#include "server/api/kserve_service.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/api/grpc_status.h"
#include "server/api/inference_call.h"
#include "server/api/kserve_tensor_codec.h"

namespace q8::server {
namespace {

// KServe versions are strings; "" lets the server choose (latest).
absl::StatusOr<std::optional<int64_t>> ParseVersion(const std::string& version) {
  if (version.empty()) return std::optional<int64_t>();
  int64_t v = 0;
  if (!std::all_of(version.begin(), version.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(version, &v) || v <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version '", version,
                     "' is not a positive integer (leave it empty for the "
                     "latest version)"));
  }
  return std::optional<int64_t>(v);
}

void FillMetadata(const SignatureTensor& t, inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(t.logical_name);
  out->set_datatype(std::string(DTypeToKServe(t.dtype)));
  for (int64_t d : t.shape) out->add_shape(d);  // -1 stays -1: variable size
}

// Why `model` (at `version`, "" = latest) is not ready: the version's state and its
// reason ("failed", "model.onnx: ..."), or the model's config error.
std::pair<std::string, std::string> NotReadyReason(const ServingMap& map, const std::string& model,
                                                   const std::string& version) {
  const ModelEntry* entry = map.FindModel(model);
  if (entry == nullptr) return {"unknown", "the model is not in the repository"};
  const VersionStatus* status = nullptr;
  if (version.empty()) {
    if (!entry->versions.empty()) status = &entry->versions.rbegin()->second;
  } else {
    int64_t v = 0;
    if (absl::SimpleAtoi(version, &v)) {
      auto it = entry->versions.find(v);
      if (it != entry->versions.end()) status = &it->second;
    }
  }
  std::string reason = entry->error.ok() ? "" : std::string(entry->error.message());
  if (status == nullptr) {
    return {"unknown", reason.empty() ? "no such version on disk" : reason};
  }
  if (!status->error.ok()) reason = std::string(status->error.message());
  return {std::string(VersionStateName(status->state)), reason};
}

// The --max-message-bytes check comes first: an oversize request costs no decoding.
absl::Status DecodeInfer(const inference::ModelInferRequest& request, int64_t max_message_bytes,
                         InferenceRequest* inference) {
  inference->api = Api::kKServe;
  inference->model_name = request.model_name();
  if (absl::Status s = CheckMessageSize(request, max_message_bytes, "ModelInfer request");
      !s.ok()) {
    return s;
  }
  if (request.model_name().empty()) {
    return absl::InvalidArgumentError("model_name is required");
  }
  absl::StatusOr<std::optional<int64_t>> version = ParseVersion(request.model_version());
  if (!version.ok()) return version.status();
  inference->version = *version;
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "raw_input_contents has ", request.raw_input_contents_size(), " entries for ",
        request.inputs_size(), " inputs; send one per input, in input order, or none"));
  }
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& input = request.inputs(i);
    absl::StatusOr<engine::Tensor> tensor =
        DecodeInferInput(input, raw ? &request.raw_input_contents(i) : nullptr);
    if (!tensor.ok()) return tensor.status();
    if (absl::Status s = inference->AddInput(input.name(), *std::move(tensor)); !s.ok()) {
      return s;
    }
  }
  for (const auto& output : request.outputs()) inference->output_names.push_back(output.name());
  return absl::OkStatus();
}

absl::Status EncodeInfer(const absl::StatusOr<InferenceResponse>& result, const std::string& id,
                         int64_t max_message_bytes, inference::ModelInferResponse* response) {
  if (!result.ok()) return result.status();
  response->set_model_name(result->model_name);
  response->set_model_version(absl::StrCat(result->version));
  response->set_id(id);
  for (const NamedTensor& out : result->outputs) {
    absl::Status s = EncodeInferOutput(out.name, out.tensor, response->add_outputs(),
                                       response->add_raw_output_contents());
    if (!s.ok()) return s;
  }
  // The model ran (and is counted OK in the request metrics); only the reply is too big.
  return CheckMessageSize(*response, max_message_bytes, "ModelInfer response");
}

template <typename Body>
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context, Body&& body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(GuardedCall(std::forward<Body>(body)));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KServeService::ServerLive(grpc::CallbackServerContext* context,
                                                    const inference::ServerLiveRequest*,
                                                    inference::ServerLiveResponse* response) {
  // Answering at all means the process is live.
  return Respond(context, [&] {
    response->set_live(true);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* KServeService::ServerReady(grpc::CallbackServerContext* context,
                                                     const inference::ServerReadyRequest*,
                                                     inference::ServerReadyResponse* response) {
  return Respond(context, [&] {
    response->set_ready(core_->repository().Snapshot()->AnyServing());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* KServeService::ModelReady(grpc::CallbackServerContext* context,
                                                    const inference::ModelReadyRequest* request,
                                                    inference::ModelReadyResponse* response) {
  return Respond(context, [&] {
    absl::Status status = DoModelReady(*request, response);
    if (status.ok() && !response->ready()) {
      // ModelReadyResponse is a bare bool; the version's state and the reason travel in
      // trailing metadata so a KServe client can still tell "loading" from "failed: why".
      // The reason may hold any bytes (file names, "→"): hence a -bin key.
      auto [state, reason] = NotReadyState(*request);
      context->AddTrailingMetadata(kVersionStateKey, state);
      if (!reason.empty()) context->AddTrailingMetadata(kVersionReasonKey, reason);
    }
    return status;
  });
}

grpc::ServerUnaryReactor* KServeService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  return Respond(context, [&] {
    response->set_name("q8serve");
    response->set_version(server_version_);
    // No protocol extensions (Triton's "model_repository", "statistics", ...) yet.
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* KServeService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  return Respond(context, [&] { return DoModelMetadata(*request, response); });
}

grpc::ServerUnaryReactor* KServeService::ModelInfer(grpc::CallbackServerContext* context,
                                                    const inference::ModelInferRequest* request,
                                                    inference::ModelInferResponse* response) {
  return ServeInferenceCall(
      context, *core_, request_ids_, Api::kKServe, request->model_name(),
      [this, request](InferenceRequest* inference) { return Decode(*request, inference); },
      [request, response, limit = max_message_bytes_](
          const absl::StatusOr<InferenceResponse>& result) {
        return EncodeInfer(result, request->id(), limit, response);
      });
}

absl::Status KServeService::DoModelReady(const inference::ModelReadyRequest& request,
                                         inference::ModelReadyResponse* response) const {
  absl::StatusOr<std::optional<int64_t>> version = ParseVersion(request.version());
  if (!version.ok()) return version.status();
  // Not ready (rather than an error) for unknown models or versions, as Triton answers:
  // readiness probes want a yes/no.
  response->set_ready(core_->repository().Snapshot()->Find(request.name(), *version).ok());
  return absl::OkStatus();
}

std::pair<std::string, std::string> KServeService::NotReadyState(
    const inference::ModelReadyRequest& request) const {
  // The status view: a version a reload is loading right now says "loading".
  return NotReadyReason(*core_->repository().StatusSnapshot(), request.name(), request.version());
}

absl::Status KServeService::DoModelMetadata(const inference::ModelMetadataRequest& request,
                                            inference::ModelMetadataResponse* response) const {
  absl::StatusOr<std::optional<int64_t>> version = ParseVersion(request.version());
  if (!version.ok()) return version.status();
  std::shared_ptr<const ServingMap> map = core_->repository().Snapshot();
  absl::StatusOr<std::shared_ptr<const Servable>> servable = map->Find(request.name(), *version);
  if (!servable.ok()) return servable.status();
  // KServe has no notion of signatures: it sees the model's default one.
  const Signature* signature = (*servable)->FindSignature("");
  if (signature == nullptr) {
    return absl::NotFoundError(absl::StrCat("model '", request.name(), "' has no signature '",
                                            (*servable)->default_signature, "'"));
  }
  response->set_name((*servable)->name);
  for (const auto& [v, s] : map->FindModel(request.name())->serving) {
    response->add_versions(absl::StrCat(v));
  }
  response->set_platform(kKServePlatform);
  for (const SignatureTensor& t : signature->inputs) FillMetadata(t, response->add_inputs());
  for (const SignatureTensor& t : signature->outputs) FillMetadata(t, response->add_outputs());
  return absl::OkStatus();
}

absl::Status KServeService::Decode(const inference::ModelInferRequest& request,
                                   InferenceRequest* inference) const {
  const auto start = std::chrono::steady_clock::now();
  absl::Status decoded = DecodeInfer(request, max_message_bytes_, inference);
  if (!decoded.ok()) {
    core_->RecordRejected(
        inference->model_name, inference->api, decoded,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return decoded;
}

absl::Status KServeService::DoModelInfer(const inference::ModelInferRequest& request,
                                         inference::ModelInferResponse* response) const {
  InferenceRequest inference;
  if (absl::Status decoded = Decode(request, &inference); !decoded.ok()) return decoded;
  return EncodeInfer(core_->Predict(inference), request.id(), max_message_bytes_, response);
}

}  // namespace q8::server
