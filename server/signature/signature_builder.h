// Builds every signature of one model version from the highest-precedence declaration
// there is (declaration.h), resolving it against the loaded graph (resolver.h):
//
//   <model dir>/<signature file> > metadata_props["q8serve.signatures"] >
//   reference float model (<version dir>/model_float.onnx, or the file's reference_model) >
//   the previously loaded version's signatures > the graph's own names.
//
// A reference model, when present, also backs the resolver's reference_model rule and
// cross-check whatever the declaration's source. Any failure fails the load of this
// version, with the message the resolver gives.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "server/signature/signature.h"

namespace q8::server {

struct ServableSignatures {
  std::map<std::string, Signature, std::less<>> signatures;
  std::string default_signature;
};

// The previous version's signatures (their logical names carry over), if any.
struct PreviousSignatures {
  int64_t version = 0;
  const std::map<std::string, Signature, std::less<>>* signatures = nullptr;
  std::string default_signature;
};

// `signature_file` is the declarations file inside `model_dir` (config.pbtxt's
// signature_file; "signatures.pbtxt" by default).
absl::StatusOr<ServableSignatures> BuildSignatures(const engine::ModelInfo& info,
                                                   const std::string& model_dir,
                                                   const PreviousSignatures* previous,
                                                   const std::string& signature_file);

}  // namespace q8::server
