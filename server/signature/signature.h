// Signatures: the logical names a client uses, bound to a model's engine tensors.
//
// A Signature maps each logical input/output name to one engine tensor (by its index
// in ModelInfo::inputs / ::outputs) and says which rule made the binding and why, so
// GetSignature can explain it. Signatures are immutable values, built once at load and
// shared read-only by every request (thread-safe because nothing mutates them).
//
// BuildDefaultSignature binds the graph's own input and output names; the resolver
// (resolver.h) binds declared logical names to renamed tensors and produces the same
// struct, recording the rule and its explanation for every binding.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"

namespace q8::server {

// The signature used when a request names none (TF Serving's default key).
inline constexpr absl::string_view kDefaultSignatureName = "serving_default";

// What happens at the boundary between the client's tensor and the bound graph tensor.
enum class Conversion {
  kNone,        // the client sends/receives the graph tensor's own dtype
  kQuantize,    // client float32 input → info.quant.storage (with info.quant)
  kDequantize,  // graph uint8/int8 output → client float32 (with info.quant)
};
const char* ConversionName(Conversion c);  // "", "quantize", "dequantize"

// One logical tensor of a signature.
struct SignatureTensor {
  std::string logical_name;  // what clients send / receive
  engine::DType dtype = engine::DType::kUnknown;  // what clients send / receive
  engine::Shape shape;       // what clients send / receive; -1 = any size
  int engine_index = -1;     // index into ModelInfo::inputs (or ::outputs)
  engine::TensorInfo info;   // the bound graph tensor: name, dtype, shape, quant params
  Conversion conversion = Conversion::kNone;
  std::string rule;          // how the binding was made, e.g. "normalized"
  std::string explanation;   // human-readable reason
  std::string source;        // where the logical name was declared, e.g. "signatures.pbtxt"
};

struct Signature {
  std::string name;
  std::vector<SignatureTensor> inputs;   // every graph input, bound once (all are required)
  std::vector<SignatureTensor> outputs;  // a subset of the graph outputs, each bound once

  // nullptr when absent.
  const SignatureTensor* FindInput(absl::string_view logical_name) const;
  const SignatureTensor* FindOutput(absl::string_view logical_name) const;
  // "{a, b}" lists for error messages.
  std::string InputNames() const;
  std::string OutputNames() const;
};

// Binds every graph input/output under its own graph name (rules "graph_input" /
// "graph_output", source "graph"). Fails with INVALID_ARGUMENT if the model has no
// inputs or outputs, or if two of them share a name (a logical name must be unique).
absl::StatusOr<Signature> BuildDefaultSignature(const engine::ModelInfo& info);

}  // namespace q8::server
