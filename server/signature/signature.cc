#include "server/signature/signature.h"

#include <filesystem>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::server {
namespace {

const SignatureTensor* Find(const std::vector<SignatureTensor>& tensors, absl::string_view name) {
  for (const SignatureTensor& t : tensors) {
    if (t.logical_name == name) return &t;
  }
  return nullptr;
}

std::string Names(const std::vector<SignatureTensor>& tensors) {
  return absl::StrCat("{",
                      absl::StrJoin(tensors, ", ",
                                    [](std::string* out, const SignatureTensor& t) {
                                      out->append(t.logical_name);
                                    }),
                      "}");
}

absl::StatusOr<std::vector<SignatureTensor>> BindAll(const std::vector<engine::TensorInfo>& infos,
                                                     absl::string_view kind, absl::string_view rule,
                                                     const std::string& file) {
  if (infos.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": the model has no graph ", kind, "s; nothing to serve"));
  }
  std::vector<SignatureTensor> bound;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < infos.size(); ++i) {
    const engine::TensorInfo& info = infos[i];
    if (info.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": graph ", kind, " #", i, " has no name"));
    }
    if (!seen.insert(info.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": two graph ", kind, "s are named '", info.name, "'"));
    }
    SignatureTensor t;
    t.logical_name = info.name;
    t.dtype = info.dtype;
    t.shape = info.shape;
    t.engine_index = static_cast<int>(i);
    t.info = info;
    t.rule = std::string(rule);
    t.explanation = absl::StrCat("graph ", kind, " #", i, " of ", file, " under its own name");
    t.source = "graph";
    bound.push_back(std::move(t));
  }
  return bound;
}

}  // namespace

const char* ConversionName(Conversion c) {
  switch (c) {
    case Conversion::kQuantize: return "quantize";
    case Conversion::kDequantize: return "dequantize";
    case Conversion::kNone: break;
  }
  return "";
}

const SignatureTensor* Signature::FindInput(absl::string_view logical_name) const {
  return Find(inputs, logical_name);
}
const SignatureTensor* Signature::FindOutput(absl::string_view logical_name) const {
  return Find(outputs, logical_name);
}
std::string Signature::InputNames() const { return Names(inputs); }
std::string Signature::OutputNames() const { return Names(outputs); }

absl::StatusOr<Signature> BuildDefaultSignature(const engine::ModelInfo& info) {
  // Explanations name the file, not its full path: the repository layout already
  // says which model/version it is, and the path is noise in a client's answer.
  const std::string file = std::filesystem::path(info.path).filename().string();
  Signature sig;
  sig.name = std::string(kDefaultSignatureName);
  auto inputs = BindAll(info.inputs, "input", "graph_input", file);
  if (!inputs.ok()) return inputs.status();
  auto outputs = BindAll(info.outputs, "output", "graph_output", file);
  if (!outputs.ok()) return outputs.status();
  sig.inputs = *std::move(inputs);
  sig.outputs = *std::move(outputs);
  return sig;
}

}  // namespace q8::server
