// Describes an imported graph for users and the signature layer (ModelInfo): its
// inputs, outputs and every named tensor, with the quantization each carries, its
// nodes and its file metadata. DescribeModelFile (engine.h) is import + DescribeGraph.
#pragma once

#include <string>

#include "engine/engine.h"
#include "engine/ir/graph.h"

namespace q8::engine {

// Call it on the imported graph, before passes rewrite it. Quantization comes from
// QuantizeLinear / DequantizeLinear and the QLinear* ops whose scale and zero point are
// constants (table in model_info.cc). num_int8_kernels is left 0 for the compiler.
ModelInfo DescribeGraph(const ir::Graph& graph, const std::string& path, const std::string& format);

}  // namespace q8::engine
