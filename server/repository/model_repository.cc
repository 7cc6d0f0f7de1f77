#include "server/repository/model_repository.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/signature/signature_builder.h"
#include "spdlog/spdlog.h"

namespace q8::server {
namespace {

namespace fs = std::filesystem;

// The model file of a version directory: the first of the engine's known file names
// present, or the first name (model.onnx) when none is, so the load fails naming it.
std::string ModelFileIn(const fs::path& version_dir) {
  const std::vector<std::string> names = engine::ModelFileNames();
  for (const std::string& name : names) {
    std::error_code ec;
    if (fs::exists(version_dir / name, ec)) return (version_dir / name).string();
  }
  return (version_dir / names.front()).string();
}

// A version directory name is a positive decimal integer without sign or spaces
// ("1", "42"); SimpleAtoi alone would accept "+1" and " 1".
std::optional<int64_t> ParseVersion(const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), absl::ascii_isdigit)) {
    return std::nullopt;
  }
  int64_t version = 0;
  if (!absl::SimpleAtoi(name, &version) || version <= 0) return std::nullopt;
  return version;
}

std::string DescribeQuant(const engine::QuantParams& q) {
  std::string text = absl::StrCat(" quant(", std::string(engine::DTypeName(q.storage)));
  if (q.axis.has_value()) {
    absl::StrAppend(&text, " per-channel axis=", *q.axis, " channels=", q.scales.size());
  } else if (!q.scales.empty()) {
    absl::StrAppend(&text, " scale=", q.scales.front(),
                    " zero_point=", q.zero_points.empty() ? 0 : q.zero_points.front());
  }
  absl::StrAppend(&text, ")");
  return text;
}

std::string DescribeTensors(const std::vector<engine::TensorInfo>& tensors) {
  return absl::StrJoin(tensors, ", ", [](std::string* out, const engine::TensorInfo& t) {
    absl::StrAppend(out, t.name, " ", std::string(engine::DTypeName(t.dtype)), " ",
                    engine::ShapeToString(t.shape));
    if (t.quant.has_value()) absl::StrAppend(out, DescribeQuant(*t.quant));
  });
}

// "images ← 'images_QuantizeLinear_Output' [normalized, quantize]; logits ← 'logits' [exact]"
std::string DescribeBindings(const Signature& sig) {
  auto one = [](std::string* out, const SignatureTensor& t) {
    absl::StrAppend(out, t.logical_name, " ← '", t.info.name, "' [", t.rule,
                    t.conversion == Conversion::kNone ? "" : absl::StrCat(", ", ConversionName(t.conversion)),
                    "]");
  };
  return absl::StrCat(absl::StrJoin(sig.inputs, ", ", one), "; ", absl::StrJoin(sig.outputs, ", ", one));
}

absl::StatusOr<std::vector<ModelVersionPath>> ScanRepositoryOrThrow(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat("model repository '", root, "' is not a directory",
                                            ec ? absl::StrCat(": ", ec.message()) : ""));
  }
  std::vector<ModelVersionPath> found;
  for (const fs::directory_entry& model_dir : fs::directory_iterator(root, ec)) {
    const std::string model = model_dir.path().filename().string();
    if (model.empty() || model.front() == '.') continue;
    if (!model_dir.is_directory()) {
      // Files beside the models (READMEs, generator scripts) are normal: not a warning.
      spdlog::debug("repository {}: skipping file '{}'", root, model);
      continue;
    }
    bool any_version = false;
    std::error_code version_ec;
    for (const fs::directory_entry& version_dir :
         fs::directory_iterator(model_dir.path(), version_ec)) {
      const std::string name = version_dir.path().filename().string();
      if (name.empty() || name.front() == '.') continue;
      std::optional<int64_t> version = ParseVersion(name);
      if (!version_dir.is_directory() || !version.has_value()) {
        spdlog::warn(
            "repository {}: skipping '{}/{}' (a version is a directory named by "
            "a positive integer)",
            root, model, name);
        continue;
      }
      any_version = true;
      found.push_back({model, *version, ModelFileIn(version_dir.path())});
    }
    if (version_ec) {
      spdlog::warn("repository {}: cannot list '{}': {}", root, model, version_ec.message());
    }
    if (!any_version) {
      spdlog::warn(
          "repository {}: model '{}' has no version directories (expected "
          "{}/<version>/{})",
          root, model, model, absl::StrJoin(engine::ModelFileNames(), " or "));
    }
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list model repository '", root, "': ", ec.message()));
  }
  std::sort(found.begin(), found.end(), [](const ModelVersionPath& a, const ModelVersionPath& b) {
    return std::tie(a.model, a.version) < std::tie(b.model, b.version);
  });
  return found;
}

}  // namespace

absl::StatusOr<std::vector<ModelVersionPath>> ScanRepository(const std::string& root) {
  // Iteration can still throw (an entry vanishing or losing permissions mid-scan): the
  // exception stops here as a Status.
  try {
    return ScanRepositoryOrThrow(root);
  } catch (const fs::filesystem_error& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot scan model repository '", root, "': ", e.what()));
  }
}

absl::StatusOr<std::shared_ptr<const Servable>> LoadServable(const ModelVersionPath& where,
                                                             const engine::LoadOptions& options,
                                                             Metrics* metrics,
                                                             const PreviousSignatures* previous) {
  if (metrics != nullptr)
    metrics->SetModelState(where.model, where.version, VersionState::kLoading);
  const auto start = std::chrono::steady_clock::now();

  auto fail = [&](const absl::Status& status) {
    spdlog::error("model {} version {}: failed to load {}: {}", where.model, where.version,
                  where.path, status.ToString());
    if (metrics != nullptr) {
      metrics->SetModelState(where.model, where.version, VersionState::kFailed);
      metrics->RecordModelLoadFailure(where.model);
    }
    return status;
  };

  absl::StatusOr<std::shared_ptr<const engine::Model>> model =
      engine::LoadModel(where.path, options);
  if (!model.ok()) return fail(model.status());
  const std::string model_dir = fs::path(where.path).parent_path().parent_path().string();
  absl::StatusOr<ServableSignatures> signatures =
      BuildSignatures((*model)->info(), model_dir, previous);
  if (!signatures.ok()) return fail(signatures.status());

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto servable = std::make_shared<Servable>();
  servable->name = where.model;
  servable->version = where.version;
  servable->path = where.path;
  servable->model = *std::move(model);
  servable->signatures = std::move(signatures->signatures);
  servable->default_signature = std::move(signatures->default_signature);
  if (metrics != nullptr) {
    servable->metrics = metrics->ForModel(where.model, where.version);
    metrics->RecordModelLoad(where.model, where.version, seconds);
    metrics->SetModelState(where.model, where.version, VersionState::kAvailable);
  }
  const engine::ModelInfo& info = servable->model->info();
  for (const auto& [name, sig] : servable->signatures) {
    spdlog::info("model {} version {}: signature '{}'{}: {}", where.model, where.version, name,
                 name == servable->default_signature ? " (default)" : "",
                 DescribeBindings(sig));
  }
  spdlog::info(
      "model {} version {}: loaded {} in {:.1f} ms ({} nodes, {} int8 kernels); "
      "inputs: {}; outputs: {}",
      where.model, where.version, where.path, seconds * 1e3, info.num_nodes, info.num_int8_kernels,
      DescribeTensors(info.inputs), DescribeTensors(info.outputs));
  return std::shared_ptr<const Servable>(std::move(servable));
}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options,
                                                                         Metrics* metrics) {
  absl::StatusOr<std::vector<ModelVersionPath>> found = ScanRepository(options.root);
  if (!found.ok()) return found.status();

  auto map = std::make_shared<ServingMap>();
  std::vector<std::string> failures;
  for (const ModelVersionPath& where : *found) {
    ModelEntry& entry = map->models[where.model];
    VersionStatus& status = entry.versions[where.version];
    status.path = where.path;
    // Versions load in ascending order: the newest one loaded so far lends its logical
    // names to this one (a float v1's names carry over to a renamed int8 v2).
    std::optional<PreviousSignatures> previous;
    if (!entry.serving.empty()) {
      const Servable& last = *entry.serving.rbegin()->second;
      previous = PreviousSignatures{last.version, &last.signatures, last.default_signature};
    }
    absl::StatusOr<std::shared_ptr<const Servable>> servable =
        LoadServable(where, options.load, metrics, previous ? &*previous : nullptr);
    if (servable.ok()) {
      status.state = VersionState::kAvailable;
      entry.serving.emplace(where.version, *std::move(servable));
    } else {
      status.state = VersionState::kFailed;
      status.error = servable.status();
      failures.push_back(absl::StrCat(where.path, ": ", servable.status().message()));
    }
  }
  for (const auto& [name, entry] : map->models) {
    if (entry.serving.empty()) {
      spdlog::error("model {}: no loadable version; it will not be served", name);
    }
  }
  if (!map->AnyServing()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no model could be loaded from repository '", options.root, "' (expected ",
                     "<model>/<version>/", absl::StrJoin(engine::ModelFileNames(), "|"), ")",
                     failures.empty() ? std::string(": no model versions found")
                                      : absl::StrCat(": ", absl::StrJoin(failures, "; "))));
  }
  std::unique_ptr<ModelRepository> repository(new ModelRepository(options));
  repository->Publish(std::move(map));
  return repository;
}

std::shared_ptr<const ServingMap> ModelRepository::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return map_;
}

void ModelRepository::Publish(std::shared_ptr<const ServingMap> map) {
  std::shared_ptr<const ServingMap> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(map_, std::move(map));
  }
  // `old` is released here, outside the lock: dropping the last reference to a
  // servable frees a compiled model, which must not stall Snapshot() callers.
}

}  // namespace q8::server
