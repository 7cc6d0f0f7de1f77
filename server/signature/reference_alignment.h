// Structural alignment of a quantized graph with the float model it was made from:
// the float model's input/output names are carried over to the quantized graph's
// inputs/outputs when the two graphs line up.
//
//   float:      images ─ Gemm ─ Relu ─ Gemm ─ Relu ─ Gemm ─ logits
//   quantized:  x ─ Q ─ DQ ─ Gemm ─ … ─ QLinearMatMul ─ … ─ MatMulInteger ─ … ─ y
//               (heavy-op sequence MatMul, MatMul, MatMul on both sides ⇒ x ≙ images, y ≙ logits)
//
// Lines up means: the same number of inputs and of outputs, position i of one compatible
// with position i of the other (same rank, same fixed dims; float32 on the float side,
// float32 or a quantized type with quantization parameters on the other), and the same
// sequence of heavy ops (matrix products and convolutions, in any of their quantized
// forms). Anything else fails with the first difference: nothing is guessed.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"

namespace q8::server {

struct ReferenceAlignment {
  std::string file;                  // reference model file name, for explanations
  std::map<std::string, int> inputs;   // reference input name → quantized graph input index
  std::map<std::string, int> outputs;  // reference output name → quantized graph output index
  std::string evidence;              // e.g. "heavy ops MatMul×3 in the same order"
};

absl::StatusOr<ReferenceAlignment> AlignWithReference(const engine::ModelInfo& reference,
                                                      const engine::ModelInfo& quantized);

// Same rank, and every dim fixed on both sides is equal (-1 matches anything).
bool DimsCompatible(const engine::Shape& want, const engine::Shape& have);

}  // namespace q8::server
