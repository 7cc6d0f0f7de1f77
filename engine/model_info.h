// Describes an imported graph for users and the signature layer (ModelInfo): its
// inputs, outputs and every named tensor, with the quantization each carries.
#pragma once

#include <string>

#include "engine/engine.h"
#include "engine/ir/graph.h"

namespace q8::engine {

ModelInfo DescribeGraph(const ir::Graph& graph, const std::string& path, const std::string& format);

}  // namespace q8::engine
