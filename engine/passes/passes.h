// Graph rewrites run between import and compile, in the order RunPasses lists them.
#pragma once

#include "absl/status/status.h"
#include "engine/ir/graph.h"

namespace q8::engine::passes {

// Folds QDQ-form matrix products into the internal int8 op q8.QGemm, so they run on
// int8 oneDNN primitives instead of float math on dequantized values:
//
//   x_q ─DQ─┐
//   w_q ─DQ─┼─ Gemm(transB) | MatMul ─[Relu]─[QuantizeLinear]─►  y_q (or float y)
//   b_q ─DQ─┘ (optional)
//                     ⇒  x_q ─ QGemm(w_q, bias, relu, output scale) ─► y_q (or y)
//
// Requirements (else the nodes are left as they are): x and w dequantize per-tensor /
// per-output-channel with constant parameters, w is a constant int8 tensor with zero
// zero-points, Gemm has alpha = beta = 1 and transA = 0. The Relu and QuantizeLinear are
// fused only when they are the sole consumers and not graph outputs.
absl::Status FoldQdqMatMul(ir::Graph& graph);

// QLinearMatMul with a constant int8 weight becomes q8.QGemm too (same kernel).
absl::Status RewriteQLinearMatMul(ir::Graph& graph);

// Removes nodes none of whose outputs are consumed or graph outputs.
void RemoveDeadNodes(ir::Graph& graph);

// All of the above, in order.
absl::Status RunPasses(ir::Graph& graph);

}  // namespace q8::engine::passes
