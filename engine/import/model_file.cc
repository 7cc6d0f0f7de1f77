#include "engine/import/model_file.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/import/onnx_importer.h"

namespace q8::engine {

absl::StatusOr<ImportedModel> ImportModelFile(const std::string& path) {
  // Checked before the extension so that a typo in a path reads as "no such file",
  // not as an unsupported format.
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such model file"));
  }
  if (!absl::EndsWith(path, ".onnx")) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unknown model format (supported: .onnx)"));
  }
  auto graph = ImportOnnxFile(path);
  if (!graph.ok()) return graph.status();
  return ImportedModel{*std::move(graph), "onnx"};
}

}  // namespace q8::engine
