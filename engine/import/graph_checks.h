// Consistency checks every imported graph passes before anything reads it (ModelInfo, the
// passes, the kernels), whatever format it came from. They catch what an importer cannot
// see one tensor at a time and what would otherwise surface as a wrong result or a crash
// deep in a kernel:
//
//   - quantization parameters of the quantized ops (QuantizeLinear, DequantizeLinear,
//     QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, com.microsoft QLinear*):
//     scales float32, scalar or 1-D, finite and > 0; zero points uint8/int8 (int32 for
//     DequantizeLinear) of the type of the tensor they describe; per-axis parameters with
//     an axis in range and one value per element along it; QLinearConv's bias int32 [M];
//   - element types: what the graph declares (graph inputs and outputs, value_info) against
//     what its ops produce, and int8 tensors reaching ops that compute in float (Conv,
//     Gemm, MatMul, ...) without a DequantizeLinear;
//   - attribute kinds of the attributes the engine reads (an INT "pads" would otherwise be
//     ignored silently).
//
// Element types are followed through the ops whose output type is fixed by their inputs
// (see graph_checks.cc); a value of unknown type is not checked. Stateless; thread-safe.
#pragma once

#include "absl/status/status.h"
#include "engine/ir/graph.h"

namespace q8::engine {

// OK, or INVALID_ARGUMENT naming the node (name and op type), the tensor and what is
// wrong with it, and what would be valid; UNIMPLEMENTED for valid ONNX the engine does not
// run (e.g. QuantizeLinear of int32). Messages do not name the file: the caller adds it.
absl::Status CheckImportedGraph(const ir::Graph& graph);

}  // namespace q8::engine
