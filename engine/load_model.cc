// LoadModel: import → describe → passes → compile.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/dnnl/compiled_model.h"
#include "engine/engine.h"
#include "engine/import/model_file.h"
#include "engine/model_info.h"
#include "engine/passes/passes.h"

namespace q8::engine {

absl::StatusOr<std::shared_ptr<const Model>> LoadModel(const std::string& path,
                                                       const LoadOptions& options) {
  auto imported = ImportModelFile(path);
  if (!imported.ok()) return imported.status();
  ir::Graph& graph = imported->graph;
  // Described before the passes: users and the signature layer see the graph as the
  // file has it, not the engine's fused rewrite.
  ModelInfo info = DescribeGraph(graph, path, imported->format);
  if (auto s = passes::RunPasses(graph); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  auto model = dnnl_backend::CompiledModel::Create(graph, std::move(info), options);
  if (!model.ok()) return model.status();
  return std::shared_ptr<const Model>(*std::move(model));
}

}  // namespace q8::engine
