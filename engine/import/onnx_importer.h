// ONNX ModelProto (libonnx's onnx_pb.h) → ir::Graph.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"

namespace onnx {
class TensorProto;
}

namespace q8::engine {

// Reads and imports an .onnx file. Constant nodes become graph constants; graph
// inputs that are also initializers are treated as constants; metadata_props become
// Graph::metadata. Errors name the file
// and the node or tensor at fault.
absl::StatusOr<ir::Graph> ImportOnnxFile(const std::string& path);

// Parses serialized ModelProto bytes; `path` is used only in messages.
absl::StatusOr<ir::Graph> ImportOnnxBytes(const std::string& bytes, const std::string& path);

// Converts one ONNX tensor (raw_data or typed fields) to an engine Tensor.
absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto);

}  // namespace q8::engine
