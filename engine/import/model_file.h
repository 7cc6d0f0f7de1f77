// The one entry point from a model file on disk to an ir::Graph: checks that the file
// exists, picks the importer from the extension and imports. LoadModel and
// DescribeModelFile both start here, so they fail the same way on the same file.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"

namespace q8::engine {

struct ImportedModel {
  ir::Graph graph;     // as imported, before any pass
  std::string format;  // "onnx", "graphdef" (ModelInfo::format)
};

// Every imported graph then passes CheckImportedGraph (graph_checks.h), whatever its
// format. Errors: NOT_FOUND naming the file when it does not exist; UNIMPLEMENTED for an
// extension no importer handles (listing the supported ones); otherwise the importer's
// or the checks', prefixed with the file.
// Stateless; thread-safe.
absl::StatusOr<ImportedModel> ImportModelFile(const std::string& path);

// The file names a model version directory may hold, one per format, in the order a
// repository probes them ("model.onnx", ...). Also exported as engine::ModelFileNames.
std::vector<std::string> KnownModelFileNames();
// Those of one format (ImportedModel::format); empty for an unknown name.
std::vector<std::string> KnownModelFileNames(const std::string& format);
// The formats, each once, in probing order: "onnx", "tflite", "graphdef".
std::vector<std::string> KnownModelFormatNames();

}  // namespace q8::engine
