#include "server/api/q8serve_service.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "server/api/grpc_status.h"

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
