#include "server/signature/declaration.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "q8serve/v1/signature_file.pb.h"

namespace q8::server {
namespace {

// Collects the first text-format error with its position (the default collector only
// logs to stderr, which a user never sees).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (text_.empty()) text_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

absl::StatusOr<DeclaredTensor> ConvertTensor(const q8serve::v1::TensorSpec& spec,
                                             const std::string& where) {
  if (spec.name().empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": a tensor has no name"));
  DeclaredTensor t;
  t.logical_name = spec.name();
  t.tensor = spec.tensor();
  if (!spec.dtype().empty()) {
    t.dtype = ParseDType(spec.dtype());
    if (!t.dtype) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", spec.name(), "' has unknown dtype '",
                                                     spec.dtype(),
                                                     "' (float32, uint8, int8, int32, int64, bool)"));
    }
  }
  if (spec.shape_size() > 0) {
    t.shape = engine::Shape(spec.shape().begin(), spec.shape().end());
    for (int64_t d : *t.shape) {
      if (d < -1 || d == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": '", spec.name(), "' has dim ", d, " (use a positive size, or -1 for any)"));
      }
    }
  }
  return t;
}

absl::StatusOr<std::vector<DeclaredTensor>> ConvertTensors(
    const google::protobuf::RepeatedPtrField<q8serve::v1::TensorSpec>& specs,
    const std::string& where) {
  std::vector<DeclaredTensor> out;
  std::set<std::string> seen;
  for (const auto& spec : specs) {
    auto t = ConvertTensor(spec, where);
    if (!t.ok()) return t.status();
    if (!seen.insert(t->logical_name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", t->logical_name, "' is declared twice"));
    }
    out.push_back(*std::move(t));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(where, " is empty"));
  return out;
}

}  // namespace

std::optional<engine::DType> ParseDType(const std::string& name) {
  for (engine::DType t : {engine::DType::kFloat32, engine::DType::kUint8, engine::DType::kInt8,
                          engine::DType::kInt32, engine::DType::kInt64, engine::DType::kBool}) {
    if (name == engine::DTypeName(t)) return t;
  }
  return std::nullopt;
}

absl::StatusOr<Declaration> ParseSignatureFile(const std::string& text, const std::string& source) {
  q8serve::v1::SignatureFile file;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &file)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", errors.text()));
  }
  Declaration d;
  d.source = source;
  d.reference_model = file.reference_model();
  std::set<std::string> names;
  for (const auto& spec : file.signatures()) {
    DeclaredSignature sig;
    sig.name = spec.name().empty() ? std::string(kDefaultSignatureName) : spec.name();
    if (!names.insert(sig.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": signature '", sig.name, "' is declared twice"));
    }
    const std::string where = absl::StrCat(source, ": signature '", sig.name, "'");
    auto inputs = ConvertTensors(spec.inputs(), absl::StrCat(where, " inputs"));
    if (!inputs.ok()) return inputs.status();
    auto outputs = ConvertTensors(spec.outputs(), absl::StrCat(where, " outputs"));
    if (!outputs.ok()) return outputs.status();
    sig.inputs = *std::move(inputs);
    sig.outputs = *std::move(outputs);
    d.signatures.push_back(std::move(sig));
  }
  if (d.signatures.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": declares no signatures (add signatures { name: \"serving_default\" ... })"));
  }
  d.default_signature =
      file.default_signature().empty() ? std::string(kDefaultSignatureName) : file.default_signature();
  if (!names.count(d.default_signature)) {
    if (!file.default_signature().empty() || d.signatures.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": default signature '", d.default_signature, "' is not declared; declared: {",
          absl::StrJoin(names, ", "), "}"));
    }
    d.default_signature = d.signatures.front().name;  // the only one is the default
  }
  return d;
}

absl::StatusOr<std::optional<Declaration>> ReadSignatureFile(const std::string& model_dir,
                                                             const std::string& file_name) {
  const std::filesystem::path path = std::filesystem::path(model_dir) / file_name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<Declaration>();
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  auto d = ParseSignatureFile(text.str(), path.string());
  if (!d.ok()) return d.status();
  d->source = file_name;  // messages already carry the full path
  return std::optional<Declaration>(*std::move(d));
}

absl::StatusOr<std::optional<Declaration>> DeclarationFromMetadata(const engine::ModelInfo& info) {
  auto it = info.metadata.find(kSignatureMetadataKey);
  if (it == info.metadata.end()) return std::optional<Declaration>();
  auto d = ParseSignatureFile(it->second, absl::StrCat(info.path, " metadata_props[\"",
                                                       kSignatureMetadataKey, "\"]"));
  if (!d.ok()) return d.status();
  d->source = "model metadata";
  return std::optional<Declaration>(*std::move(d));
}

Declaration DeclarationFromGraph(const engine::ModelInfo& reference, const std::string& source) {
  auto declare = [](const std::vector<engine::TensorInfo>& tensors) {
    std::vector<DeclaredTensor> out;
    for (const auto& t : tensors) out.push_back({t.name, "", t.dtype, t.shape});
    return out;
  };
  Declaration d;
  d.source = source;
  d.signatures.push_back(DeclaredSignature{std::string(kDefaultSignatureName),
                                           declare(reference.inputs), declare(reference.outputs)});
  d.default_signature = std::string(kDefaultSignatureName);
  return d;
}

Declaration DeclarationFromSignatures(const std::map<std::string, Signature, std::less<>>& sigs,
                                      const std::string& default_signature,
                                      const std::string& source) {
  auto declare = [](const std::vector<SignatureTensor>& tensors) {
    std::vector<DeclaredTensor> out;
    for (const auto& t : tensors) out.push_back({t.logical_name, "", t.dtype, t.shape});
    return out;
  };
  Declaration d;
  d.source = source;
  for (const auto& [name, sig] : sigs) {
    d.signatures.push_back(DeclaredSignature{name, declare(sig.inputs), declare(sig.outputs)});
  }
  d.default_signature = default_signature;
  return d;
}

}  // namespace q8::server
