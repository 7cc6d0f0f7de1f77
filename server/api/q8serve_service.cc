#include "server/api/q8serve_service.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "server/api/grpc_status.h"
#include "server/repository/model_config.h"
#include "spdlog/spdlog.h"

namespace q8::server {
namespace {

void FillQuant(const engine::QuantParams& q, q8serve::v1::QuantParams* quant) {
  for (float s : q.scales) quant->add_scales(s);
  for (int64_t z : q.zero_points) quant->add_zero_points(z);
  quant->set_per_channel(q.axis.has_value());
  quant->set_axis(q.axis.value_or(0));
  quant->set_storage_dtype(std::string(engine::DTypeName(q.storage)));
}

void FillBinding(const SignatureTensor& t, q8serve::v1::TensorBinding* out) {
  out->set_logical_name(t.logical_name);
  out->set_tensor_name(t.info.name);
  out->set_dtype(std::string(engine::DTypeName(t.dtype)));
  for (int64_t d : t.shape) out->add_shape(d);
  if (t.info.quant.has_value()) FillQuant(*t.info.quant, out->mutable_quant());
  out->set_rule(t.rule);
  out->set_explanation(t.explanation);
  out->set_source(t.source);
  out->set_conversion(ConversionName(t.conversion));
  out->set_tensor_dtype(std::string(engine::DTypeName(t.info.dtype)));
  out->set_tensor_name_generated(t.info.name_generated);
}

absl::StatusOr<std::shared_ptr<const Servable>> FindServable(const ModelRepository& repository,
                                                             const std::string& model,
                                                             int64_t version) {
  if (model.empty()) return absl::InvalidArgumentError("model_name is required");
  if (version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version ", version, " is negative; use 0 for the latest"));
  }
  return repository.Snapshot()->Find(
      model, version > 0 ? std::optional<int64_t>(version) : std::nullopt);
}

}  // namespace

grpc::ServerUnaryReactor* Q8ServeService::GetSignature(
    grpc::CallbackServerContext* context, const q8serve::v1::GetSignatureRequest* request,
    q8serve::v1::GetSignatureResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(GuardedCall([&] { return DoGetSignature(*request, response); }));
  return reactor;
}

absl::Status Q8ServeService::DoGetSignature(const q8serve::v1::GetSignatureRequest& request,
                                            q8serve::v1::GetSignatureResponse* response) const {
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      FindServable(*repository_, request.model_name(), request.version());
  if (!servable.ok()) return servable.status();
  const Signature* signature = (*servable)->FindSignature(request.signature_name());
  if (signature == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "Model '", (*servable)->name, "' version ", (*servable)->version, " has no signature '",
        request.signature_name(), "'. Available signatures: ", (*servable)->SignatureNames()));
  }
  response->set_model_name((*servable)->name);
  response->set_version((*servable)->version);
  response->set_signature_name(signature->name);
  for (const SignatureTensor& t : signature->inputs) FillBinding(t, response->add_inputs());
  for (const SignatureTensor& t : signature->outputs) FillBinding(t, response->add_outputs());
  return absl::OkStatus();
}

}  // namespace q8::server

namespace q8::server {

grpc::ServerUnaryReactor* Q8ServeService::GetGraph(grpc::CallbackServerContext* context,
                                                   const q8serve::v1::GetGraphRequest* request,
                                                   q8serve::v1::GetGraphResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(GuardedCall([&] { return DoGetGraph(*request, response); }));
  return reactor;
}

absl::Status Q8ServeService::DoGetGraph(const q8serve::v1::GetGraphRequest& request,
                                        q8serve::v1::GetGraphResponse* response) const {
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      FindServable(*repository_, request.model_name(), request.version());
  if (!servable.ok()) return servable.status();
  // RE2, not std::regex: a client-supplied pattern must not be able to make the server
  // backtrack exponentially; RE2 matches in linear time.
  RE2 pattern(request.pattern(), RE2::Quiet);
  if (!pattern.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pattern '", request.pattern(), "' is not a valid RE2 regular expression: ",
                     pattern.error()));
  }
  auto matches = [&](std::initializer_list<absl::string_view> fields) {
    if (request.pattern().empty()) return true;
    for (absl::string_view f : fields) {
      if (RE2::PartialMatch(re2::StringPiece(f.data(), f.size()), pattern)) return true;
    }
    return false;
  };
  const engine::ModelInfo& info = (*servable)->model->info();
  response->set_model_name((*servable)->name);
  response->set_version((*servable)->version);
  response->set_format(info.format);
  response->set_path(info.path);
  response->set_total_tensors(static_cast<int32_t>(info.tensors.size()));
  response->set_total_nodes(static_cast<int32_t>(info.nodes.size()));
  auto is_one_of = [](const std::vector<engine::TensorInfo>& list, const std::string& name) {
    for (const auto& t : list) {
      if (t.name == name) return true;
    }
    return false;
  };
  for (const engine::TensorInfo& t : info.tensors) {
    if (!matches({t.name, t.producer_op, t.producer_node})) continue;
    q8serve::v1::GraphTensor* out = response->add_tensors();
    out->set_name(t.name);
    if (t.dtype != engine::DType::kUnknown) out->set_dtype(engine::DTypeName(t.dtype));
    out->set_has_shape(!t.shape.empty());
    for (int64_t d : t.shape) out->add_shape(d);
    if (t.quant.has_value()) FillQuant(*t.quant, out->mutable_quant());
    out->set_producer_op(t.producer_op);
    out->set_producer_node(t.producer_node);
    out->set_is_input(is_one_of(info.inputs, t.name));
    out->set_is_output(is_one_of(info.outputs, t.name));
  }
  for (const engine::NodeInfo& n : info.nodes) {
    if (!matches({n.name, n.op_type})) continue;
    q8serve::v1::GraphNode* out = response->add_nodes();
    out->set_name(n.name);
    out->set_op_type(n.op_type);
    for (const auto& in : n.inputs) out->add_inputs(in);
    for (const auto& o : n.outputs) out->add_outputs(o);
  }
  return absl::OkStatus();
}

}  // namespace q8::server

namespace q8::server {
namespace {

void FillModelStatus(const std::string& name, const ModelEntry& entry, int64_t only_version,
                     q8serve::v1::ModelStatus* out) {
  out->set_model_name(name);
  if (!entry.error.ok()) out->set_error(std::string(entry.error.message()));
  out->set_version_policy(DescribeVersionPolicy(entry.config.version_policy()));
  for (const auto& [v, status] : entry.versions) {
    if (only_version > 0 && v != only_version) continue;
    q8serve::v1::ModelVersionStatus* version = out->add_versions();
    version->set_version(v);
    version->set_state(std::string(VersionStateName(status.state)));
    if (!status.error.ok()) version->set_reason(std::string(status.error.message()));
    version->set_path(status.path);
  }
}

absl::Status FillReloadResponse(const absl::StatusOr<ReloadReport>& report,
                                const ServingMap& map,
                                q8serve::v1::ReloadRepositoryResponse* response) {
  if (!report.ok()) return report.status();
  for (const VersionChange& change : report->changes) {
    q8serve::v1::VersionChange* out = response->add_changes();
    out->set_model_name(change.model);
    out->set_version(change.version);
    out->set_change(std::string(ChangeKindName(change.kind)));
    out->set_reason(change.reason);
  }
  for (const auto& [name, entry] : map.models) {
    FillModelStatus(name, entry, 0, response->add_models());
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* Q8ServeService::GetModelStatus(
    grpc::CallbackServerContext* context, const q8serve::v1::GetModelStatusRequest* request,
    q8serve::v1::GetModelStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(GuardedCall([&] { return DoGetModelStatus(*request, response); }));
  return reactor;
}

absl::Status Q8ServeService::DoGetModelStatus(const q8serve::v1::GetModelStatusRequest& request,
                                              q8serve::v1::GetModelStatusResponse* response) const {
  if (request.version() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version ", request.version(), " is negative; use 0 for every version"));
  }
  // With the versions a reload is loading right now (not serving yet) as "loading".
  const std::shared_ptr<const ServingMap> map = repository_->StatusSnapshot();
  if (request.model_name().empty()) {
    if (request.version() > 0) {
      return absl::InvalidArgumentError("a version needs a model_name");
    }
    for (const auto& [name, entry] : map->models) {
      FillModelStatus(name, entry, 0, response->add_models());
    }
    return absl::OkStatus();
  }
  const ModelEntry* entry = map->FindModel(request.model_name());
  if (entry == nullptr) {
    std::vector<absl::string_view> known;
    for (const auto& [name, e] : map->models) known.push_back(name);
    return absl::NotFoundError(absl::StrCat("Model '", request.model_name(),
                                            "' is not in the repository. Known models: {",
                                            absl::StrJoin(known, ", "), "}"));
  }
  if (request.version() > 0 && !entry->versions.count(request.version())) {
    std::vector<int64_t> known;
    for (const auto& [v, status] : entry->versions) known.push_back(v);
    return absl::NotFoundError(absl::StrCat("Model '", request.model_name(), "' has no version ",
                                            request.version(), " on disk. Known versions: {",
                                            absl::StrJoin(known, ", "), "}"));
  }
  FillModelStatus(request.model_name(), *entry, request.version(), response->add_models());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* Q8ServeService::ReloadRepository(
    grpc::CallbackServerContext* context, const q8serve::v1::ReloadRepositoryRequest*,
    q8serve::v1::ReloadRepositoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  spdlog::info("ReloadRepository requested by {}", context->peer());
  // Finished from the load thread: `response` and `reactor` stay valid until Finish.
  // Captures the repository, not the service: the repository runs the callback, so it is
  // alive then.
  repository_->RequestReload(
      [repository = repository_, reactor, response](const absl::StatusOr<ReloadReport>& report) {
        reactor->Finish(GuardedCall(
            [&] { return FillReloadResponse(report, *repository->Snapshot(), response); }));
      });
  return reactor;
}

absl::Status Q8ServeService::DoReloadRepository(const q8serve::v1::ReloadRepositoryRequest&,
                                                q8serve::v1::ReloadRepositoryResponse* response) {
  const absl::StatusOr<ReloadReport> report = repository_->Reload();
  return FillReloadResponse(report, *repository_->Snapshot(), response);
}

}  // namespace q8::server
