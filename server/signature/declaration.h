// Declarations: the logical names a model version should be served under, before they
// are bound to tensors. They come from one source, in this order of precedence:
//
//   1. <model dir>/signatures.pbtxt, or config.pbtxt's signature_file (source: its name)
//   2. the model's metadata_props["q8serve.signatures"]  (source "model metadata")
//   3. a reference float model's graph names  (source "reference model <file>")
//   4. the previously loaded version's signatures  (source "version <n>")
//   (5. none: the graph's own names, BuildDefaultSignature)
//
// The resolver (resolver.h) then binds every declared name to a real tensor. Plain
// values; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "server/signature/signature.h"

namespace q8::server {

inline constexpr char kSignatureFileName[] = "signatures.pbtxt";
inline constexpr char kSignatureMetadataKey[] = "q8serve.signatures";
inline constexpr char kReferenceModelFileName[] = "model_float.onnx";

struct DeclaredTensor {
  std::string logical_name;
  std::string tensor;                   // explicit graph tensor; "" = resolve automatically
  std::optional<engine::DType> dtype;   // what clients use; nullopt = the tensor's own
  std::optional<engine::Shape> shape;   // expected shape, -1 = any; nullopt = the tensor's own
};

struct DeclaredSignature {
  std::string name;
  std::vector<DeclaredTensor> inputs;
  std::vector<DeclaredTensor> outputs;
};

struct Declaration {
  std::string source;  // see the list above
  std::vector<DeclaredSignature> signatures;
  std::string default_signature;  // always one of `signatures`
  std::string reference_model;    // as written in the file (relative to the model dir); "" = none
};

// Parses a signature file in protobuf text format (q8serve.v1.SignatureFile). Errors
// are INVALID_ARGUMENT naming `source` and, for syntax errors, the line and column.
absl::StatusOr<Declaration> ParseSignatureFile(const std::string& text, const std::string& source);

// Reads <model_dir>/<file_name> (config.pbtxt's signature_file, by default
// signatures.pbtxt); nullopt when there is none. The declaration's source is `file_name`.
absl::StatusOr<std::optional<Declaration>> ReadSignatureFile(
    const std::string& model_dir, const std::string& file_name = kSignatureFileName);

// The signature embedded in a model's metadata, if any.
absl::StatusOr<std::optional<Declaration>> DeclarationFromMetadata(const engine::ModelInfo& info);

// The graph input/output names of a (float) reference model, as one "serving_default"
// signature with their dtypes and shapes.
Declaration DeclarationFromGraph(const engine::ModelInfo& reference, const std::string& source);

// What an already-served version declares: its logical names, client dtypes and shapes.
Declaration DeclarationFromSignatures(const std::map<std::string, Signature, std::less<>>& sigs,
                                      const std::string& default_signature,
                                      const std::string& source);

// "float32" → kFloat32 etc.; nullopt for an unknown name.
std::optional<engine::DType> ParseDType(const std::string& name);

}  // namespace q8::server
