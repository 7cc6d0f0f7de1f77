// TensorFlow frozen GraphDef (binary .pb or text .pbtxt) and SavedModel (saved_model.pb)
// → ir::Graph.
//
// Every TF tensor keeps its name ("node:k"; outputs k > 0 of quantized ops are their
// float min/max and live only at import time). TF's NHWC activations become the engine's
// NCHW convolutions with Transposes at the edges; TF's quantized ops (quantize_graph,
// graph_transforms quantize_nodes, Intel's fused int8 ops) and FakeQuant nodes become
// QuantizeLinear / DequantizeLinear around float ops, which the QDQ passes fold into int8
// oneDNN kernels. The op handlers and their formulas are in graphdef_ops.cc.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"

namespace q8::engine {

// Reads and imports a GraphDef file: `*.pbtxt` is protobuf text, `saved_model.pb` a
// SavedModel (its "serve" MetaGraphDef, or its only one), anything else a binary GraphDef.
// Graph inputs are the Placeholders; graph outputs every SavedModel signature_def's
// outputs when present, else every tensor output 0 of a node nothing consumes. A
// SavedModel's signature_defs become ModelInfo::metadata["q8serve.signatures"] (the
// signature layer's declaration: keys bound to their tensors); those it cannot serve, and
// text-format fields it skipped, are listed in metadata["tf.warnings"].
// Errors name the file, the node and its op type: UNIMPLEMENTED for an op without a
// handler (listing the supported ones), INVALID_ARGUMENT for inconsistent metadata.
absl::StatusOr<ir::Graph> ImportGraphDefFile(const std::string& path);

// The TF op types the importer handles, sorted.
std::vector<std::string> SupportedGraphDefOps();

}  // namespace q8::engine
