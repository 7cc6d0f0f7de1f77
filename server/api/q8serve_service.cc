#include "server/api/q8serve_service.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/api/grpc_status.h"

namespace q8::server {
namespace {

void FillBinding(const SignatureTensor& t, q8serve::v1::TensorBinding* out) {
  out->set_logical_name(t.logical_name);
  out->set_tensor_name(t.info.name);
  out->set_dtype(std::string(engine::DTypeName(t.info.dtype)));
  for (int64_t d : t.info.shape) out->add_shape(d);
  if (t.info.quant.has_value()) {
    const engine::QuantParams& q = *t.info.quant;
    q8serve::v1::QuantParams* quant = out->mutable_quant();
    for (float s : q.scales) quant->add_scales(s);
    for (int64_t z : q.zero_points) quant->add_zero_points(z);
    quant->set_per_channel(q.axis.has_value());
    quant->set_axis(q.axis.value_or(0));
    quant->set_storage_dtype(std::string(engine::DTypeName(q.storage)));
  }
  out->set_rule(t.rule);
  out->set_explanation(t.explanation);
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
  if (request.model_name().empty()) {
    return absl::InvalidArgumentError("model_name is required");
  }
  if (request.version() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version ", request.version(), " is negative; use 0 for the latest"));
  }
  std::optional<int64_t> version;
  if (request.version() > 0) version = request.version();
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      repository_->Snapshot()->Find(request.model_name(), version);
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
