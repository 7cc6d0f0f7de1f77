// The signature resolver: binds each declared logical name to one graph input or
// output of a loaded model, trying rules in a fixed order and recording which rule bound
// it and why. The first rule with exactly one candidate wins; a rule with several is an
// error listing them (nothing is guessed silently); a name no rule binds is an error
// listing the graph's tensors with dtype and shape.
//
//   rule             binds 'logits' to…
//   explicit         the tensor the declaration names (`tensor: "…"`)
//   exact            a graph output named exactly 'logits'
//   original_name    a graph output the importer records as standing for 'logits'
//                    (TensorInfo::original_name, e.g. a renamed TF Dequantize)
//   normalized       'logits_QuantizeLinear_Output', 'logits/Dequantize:0', … (name_normalizer.h)
//   boundary_walk    a graph output reached from a tensor or node named 'logits' through
//                    Quantize/Dequantize/Identity/Cast nodes (the node renamed, the
//                    tensor it still feeds)
//   reference_model  the output a reference float model's 'logits' aligns with
//   unique_role      the only unbound graph output compatible with the declared dtype/shape
//
// Candidates must be compatible: same rank and fixed dims as declared, and the declared
// dtype, or float32 over a uint8/int8 tensor with quantization parameters — then the
// binding converts at the boundary (Conversion::kQuantize / kDequantize). A reference
// alignment also cross-checks: a name another rule binds elsewhere than the reference
// says is an error. Every graph input must be bound (the model cannot run otherwise).
// Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "server/signature/declaration.h"
#include "server/signature/reference_alignment.h"
#include "server/signature/signature.h"

namespace q8::server {

// `source` names where the declaration came from, for explanations and errors;
// `reference` may be null.
absl::StatusOr<Signature> ResolveSignature(const DeclaredSignature& declared,
                                           const std::string& source,
                                           const engine::ModelInfo& info,
                                           const ReferenceAlignment* reference);

}  // namespace q8::server
