// Signatures: the logical names a client uses, bound to a model's engine tensors.
//
// A Signature maps each logical input/output name to one engine tensor (by its index
// in ModelInfo::inputs / ::outputs) and says which rule made the binding and why, so
// GetSignature can explain it. Signatures are immutable values, built once at load and
// shared read-only by every request (thread-safe because nothing mutates them).
//
// This is the foundation layer: BuildDefaultSignature binds the graph's own input and
// output names. A signature resolver (config file, renamed tensors) will produce the
// same struct later, which is why the binding carries rule/explanation fields.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"

namespace q8::server {

// The signature used when a request names none (TF Serving's default key).
inline constexpr absl::string_view kDefaultSignatureName = "serving_default";

// One logical tensor of a signature.
struct SignatureTensor {
  std::string logical_name;  // what clients send / receive
  int engine_index = -1;     // index into ModelInfo::inputs (or ::outputs)
  engine::TensorInfo info;   // dtype, shape (-1 = any size), quant params, tensor name
  std::string rule;          // how the binding was made, e.g. "graph_input"
  std::string explanation;   // human-readable reason, e.g. "graph input #0 of model.onnx"
};

struct Signature {
  std::string name;
  std::vector<SignatureTensor> inputs;   // in engine input order (all are required)
  std::vector<SignatureTensor> outputs;  // in engine output order

  // nullptr when absent.
  const SignatureTensor* FindInput(absl::string_view logical_name) const;
  const SignatureTensor* FindOutput(absl::string_view logical_name) const;
  // "{a, b}" lists for error messages.
  std::string InputNames() const;
  std::string OutputNames() const;
};

// Binds every graph input/output under its own graph name (rules "graph_input" /
// "graph_output"). Fails with INVALID_ARGUMENT if the model has no inputs or outputs,
// or if two of them share a name (a logical name must be unique).
absl::StatusOr<Signature> BuildDefaultSignature(const engine::ModelInfo& info);

}  // namespace q8::server
