#include "engine/import/model_file.h"

#include <algorithm>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/import/graph_checks.h"
#include "engine/import/graphdef_importer.h"
#include "engine/import/onnx_importer.h"
#include "engine/import/tflite_importer.h"

namespace q8::engine {
namespace {

// One row per importer: adding a format is one line here (and its importer).
struct ModelFormat {
  const char* name;               // ModelInfo::format
  const char* extension;          // matched against the end of the path
  const char* default_file_name;  // what a repository version directory holds
  absl::StatusOr<ir::Graph> (*import)(const std::string& path);
};

constexpr ModelFormat kModelFormats[] = {
    {"onnx", ".onnx", "model.onnx", &ImportOnnxFile},
    {"tflite", ".tflite", "model.tflite", &ImportTfliteFile},
    // Before ".pb": a SavedModel's graph file also ends in ".pb" (the importer reads its
    // MetaGraphDef and serving signature).
    {"graphdef", "saved_model.pb", "saved_model.pb", &ImportGraphDefFile},
    {"graphdef", ".pb", "model.pb", &ImportGraphDefFile},
    {"graphdef", ".pbtxt", "model.pbtxt", &ImportGraphDefFile},
};

}  // namespace

absl::StatusOr<ImportedModel> ImportModelFile(const std::string& path) {
  // Checked before the extension so that a typo in a path reads as "no such file",
  // not as an unsupported format.
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such model file"));
  }
  for (const ModelFormat& format : kModelFormats) {
    if (!absl::EndsWith(path, format.extension)) continue;
    auto graph = format.import(path);
    if (!graph.ok()) return graph.status();
    if (auto s = CheckImportedGraph(*graph); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
    }
    return ImportedModel{*std::move(graph), format.name};
  }
  std::vector<std::string> extensions;
  for (const ModelFormat& format : kModelFormats) extensions.push_back(format.extension);
  return absl::UnimplementedError(absl::StrCat(path, ": unknown model format (supported: ",
                                               absl::StrJoin(extensions, ", "), ")"));
}

std::vector<std::string> KnownModelFileNames() {
  std::vector<std::string> names;
  for (const ModelFormat& format : kModelFormats) names.push_back(format.default_file_name);
  return names;
}

std::vector<std::string> KnownModelFileNames(const std::string& name) {
  std::vector<std::string> names;
  for (const ModelFormat& format : kModelFormats) {
    if (name == format.name) names.push_back(format.default_file_name);
  }
  return names;
}

std::vector<std::string> KnownModelFormatNames() {
  std::vector<std::string> names;
  for (const ModelFormat& format : kModelFormats) {
    if (std::find(names.begin(), names.end(), format.name) == names.end()) {
      names.push_back(format.name);
    }
  }
  return names;
}

}  // namespace q8::engine
