#include "server/signature/signature_builder.h"

#include <filesystem>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/signature/declaration.h"
#include "server/signature/reference_alignment.h"
#include "server/signature/resolver.h"

namespace q8::server {
namespace {

namespace fs = std::filesystem;

// The reference model file, if one is configured or sits beside the model.
std::optional<std::string> ReferencePath(const engine::ModelInfo& info, const std::string& model_dir,
                                         const std::optional<Declaration>& declared) {
  if (declared && !declared->reference_model.empty()) {
    return (fs::path(model_dir) / declared->reference_model).string();
  }
  fs::path beside = fs::path(info.path).parent_path() / kReferenceModelFileName;
  std::error_code ec;
  if (fs::exists(beside, ec)) return beside.string();
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ServableSignatures> BuildSignatures(const engine::ModelInfo& info,
                                                   const std::string& model_dir,
                                                   const PreviousSignatures* previous,
                                                   const std::string& signature_file) {
  absl::StatusOr<std::optional<Declaration>> declared =
      ReadSignatureFile(model_dir, signature_file);
  if (!declared.ok()) return declared.status();
  if (!declared->has_value()) {
    declared = DeclarationFromMetadata(info);
    if (!declared.ok()) return declared.status();
  }

  std::optional<ReferenceAlignment> reference;
  if (std::optional<std::string> path = ReferencePath(info, model_dir, *declared)) {
    absl::StatusOr<engine::ModelInfo> ref_info = engine::DescribeModelFile(*path);
    if (!ref_info.ok()) {
      return absl::Status(ref_info.status().code(),
                          absl::StrCat("reference model: ", ref_info.status().message()));
    }
    absl::StatusOr<ReferenceAlignment> aligned = AlignWithReference(*ref_info, info);
    if (!aligned.ok()) return aligned.status();
    reference = *std::move(aligned);
    if (!declared->has_value()) {
      *declared = DeclarationFromGraph(*ref_info, absl::StrCat("reference model ", reference->file));
    }
  }
  if (!declared->has_value() && previous != nullptr && previous->signatures != nullptr) {
    *declared = DeclarationFromSignatures(*previous->signatures, previous->default_signature,
                                          absl::StrCat("version ", previous->version));
  }

  ServableSignatures out;
  if (!declared->has_value()) {
    absl::StatusOr<Signature> sig = BuildDefaultSignature(info);
    if (!sig.ok()) return sig.status();
    out.default_signature = sig->name;
    out.signatures.emplace(sig->name, *std::move(sig));
    return out;
  }
  const Declaration& d = **declared;
  for (const DeclaredSignature& spec : d.signatures) {
    absl::StatusOr<Signature> sig =
        ResolveSignature(spec, d.source, info, reference ? &*reference : nullptr);
    if (!sig.ok()) return sig.status();
    out.signatures.emplace(sig->name, *std::move(sig));
  }
  out.default_signature = d.default_signature;
  return out;
}

}  // namespace q8::server
