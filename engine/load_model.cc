// LoadModel: import → describe → passes → compile.
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/dnnl/compiled_model.h"
#include "engine/engine.h"
#include "engine/import/onnx_importer.h"
#include "engine/model_info.h"
#include "engine/passes/passes.h"

namespace q8::engine {

absl::StatusOr<std::shared_ptr<const Model>> LoadModel(const std::string& path,
                                                       const LoadOptions& options) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such model file"));
  }
  if (!absl::EndsWith(path, ".onnx")) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unknown model format (supported: .onnx)"));
  }
  auto graph = ImportOnnxFile(path);
  if (!graph.ok()) return graph.status();
  ModelInfo info = DescribeGraph(*graph, path, "onnx");
  if (auto s = passes::RunPasses(*graph); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  auto model = dnnl_backend::CompiledModel::Create(*graph, std::move(info), options);
  if (!model.ok()) return model.status();
  return std::shared_ptr<const Model>(*std::move(model));
}

}  // namespace q8::engine
