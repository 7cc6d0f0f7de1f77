#include "server/repository/model_repository.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/inference/batcher.h"
#include "server/repository/model_config.h"
#include "server/signature/signature_builder.h"
#include "spdlog/spdlog.h"

namespace q8::server {
namespace {

namespace fs = std::filesystem;
using q8serve::v1::ModelConfig;

// The model file of a version directory: `model_file` when the config names one, else
// the first of the engine's known file names present, or the first name (model.onnx)
// when none is, so the load fails naming it.
// The version's model file: `model_file` when set, else the first present of the file
// names of `format` (every format's when empty).
std::string ModelFileIn(const fs::path& version_dir, const std::string& model_file,
                        const std::string& format = "") {
  if (!model_file.empty()) return (version_dir / model_file).string();
  std::vector<std::string> names =
      format.empty() ? engine::ModelFileNames() : engine::ModelFileNames(format);
  if (names.empty()) names = engine::ModelFileNames();  // an unknown format fails elsewhere
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
    absl::StrAppend(
        out, t.logical_name, " ← '", t.info.name, "' [", t.rule,
        t.conversion == Conversion::kNone ? "" : absl::StrCat(", ", ConversionName(t.conversion)),
        "]");
  };
  return absl::StrCat(absl::StrJoin(sig.inputs, ", ", one), "; ",
                      absl::StrJoin(sig.outputs, ", ", one));
}

// One model directory: its version directories by number.
struct ModelDir {
  std::string name;
  std::string path;
  std::map<int64_t, fs::path> versions;
};

absl::StatusOr<std::vector<ModelDir>> ScanModelDirsOrThrow(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat("model repository '", root, "' is not a directory",
                                            ec ? absl::StrCat(": ", ec.message()) : ""));
  }
  std::vector<ModelDir> found;
  for (const fs::directory_entry& model_dir : fs::directory_iterator(root, ec)) {
    const std::string model = model_dir.path().filename().string();
    if (model.empty() || model.front() == '.') continue;
    if (!model_dir.is_directory()) {
      // Files beside the models (READMEs, generator scripts) are normal: not a warning.
      spdlog::debug("repository {}: skipping file '{}'", root, model);
      continue;
    }
    ModelDir dir{model, model_dir.path().string(), {}};
    std::error_code version_ec;
    for (const fs::directory_entry& version_dir :
         fs::directory_iterator(model_dir.path(), version_ec)) {
      const std::string name = version_dir.path().filename().string();
      if (name.empty() || name.front() == '.') continue;
      std::optional<int64_t> version = ParseVersion(name);
      if (!version_dir.is_directory() || !version.has_value()) {
        // Config and signature files live here too: only directories are suspicious.
        if (version_dir.is_directory()) {
          spdlog::warn(
              "repository {}: skipping '{}/{}' (a version is a directory named by "
              "a positive integer)",
              root, model, name);
        }
        continue;
      }
      dir.versions.emplace(*version, version_dir.path());
    }
    if (version_ec) {
      spdlog::warn("repository {}: cannot list '{}': {}", root, model, version_ec.message());
    }
    found.push_back(std::move(dir));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list model repository '", root, "': ", ec.message()));
  }
  std::sort(found.begin(), found.end(),
            [](const ModelDir& a, const ModelDir& b) { return a.name < b.name; });
  return found;
}

absl::StatusOr<std::vector<ModelDir>> ScanModelDirs(const std::string& root) {
  // Iteration can still throw (an entry vanishing or losing permissions mid-scan): the
  // exception stops here as a Status.
  try {
    return ScanModelDirsOrThrow(root);
  } catch (const fs::filesystem_error& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot scan model repository '", root, "': ", e.what()));
  }
}

std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  return text.str();
}

// Hash of what, besides the model file, shapes a servable: config.pbtxt and the
// signature file. Either changing makes every version of the model load again.
uint64_t ConfigHash(const std::string& model_dir, const std::string& signature_file) {
  const std::string text =
      absl::StrCat(ReadWholeFile(fs::path(model_dir) / kModelConfigFileName), std::string(1, '\0'),
                   ReadWholeFile(fs::path(model_dir) / signature_file));
  return std::hash<std::string>()(text);
}

FileStamp StampOf(const std::string& model_file, uint64_t config_hash) {
  FileStamp stamp;
  stamp.config_hash = config_hash;
  std::error_code ec;
  const auto size = fs::file_size(model_file, ec);
  if (ec) return stamp;
  const auto mtime = fs::last_write_time(model_file, ec);
  if (ec) return stamp;
  stamp.size = static_cast<int64_t>(size);
  stamp.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  return stamp;
}

// The request queue of a version from its config: batching as configured (off by
// default), workers from instances.workers, else the server's default, else as many as
// fit the cores at `threads` engine threads per run (one when a run takes every core).
Batcher::Options BatcherOptionsFor(const ModelVersionPath& where, const ModelConfig& config,
                                   int threads, int default_workers) {
  Batcher::Options options;
  options.name = absl::StrCat("model '", where.model, "' version ", where.version);
  options.max_batch_size = config.batching().max_batch_size();
  options.max_queue_delay = absl::Microseconds(config.batching().max_queue_delay_us());
  if (config.batching().max_queue_size() > 0) {
    options.max_queue_size = config.batching().max_queue_size();
  }
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (config.instances().workers() > 0) {
    options.workers = static_cast<int>(config.instances().workers());
  } else if (default_workers > 0) {
    options.workers = default_workers;
  } else {
    options.workers = std::max(1, cores / (threads > 0 ? threads : cores));
  }
  return options;
}

// Deleter of published servables: the one place that sees a version really go away,
// i.e. when the last request (or map) holding it lets go.
void DestroyServable(const Servable* servable) {
  spdlog::info("model {} version {}: unloaded ({})", servable->name, servable->version,
               servable->path);
  delete servable;
}

}  // namespace

absl::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kLoaded:
      return "loaded";
    case ChangeKind::kReloaded:
      return "reloaded";
    case ChangeKind::kFailed:
      return "failed";
    case ChangeKind::kUnloaded:
      return "unloaded";
  }
  return "unknown";
}

absl::StatusOr<std::vector<ModelVersionPath>> ScanRepository(const std::string& root) {
  absl::StatusOr<std::vector<ModelDir>> dirs = ScanModelDirs(root);
  if (!dirs.ok()) return dirs.status();
  std::vector<ModelVersionPath> found;
  for (const ModelDir& dir : *dirs) {
    absl::StatusOr<ModelConfig> config = ReadModelConfig(dir.path, dir.name);
    const std::string model_file = config.ok() ? config->model_file() : "";
    const std::string format = config.ok() ? config->format() : "";
    for (const auto& [version, version_dir] : dir.versions) {
      found.push_back({dir.name, version, ModelFileIn(version_dir, model_file, format)});
    }
  }
  return found;  // models sorted by name, versions ascending within each
}

namespace {

// Runs the model once on zeros at batch 1 (and at every batch size up to max_batch_size
// when batching: any of them can form), so the engine's per-shape plans (primitives,
// implementation trials: 40 ms at batch 1 for MobileNetV2, 0.15 s at batch 8) are made
// before the version serves, not on its first requests (tests/bench/serve_bench.sh,
// MobileNetV2 batching to 8: p99 126 ms when only batch 1 and 8 were warmed). Run-time dims other than the first become 1. A failure is logged, not fatal: a
// model may need real values (a sequence length) to run, and its requests will say why.
void WarmUp(const ModelVersionPath& where, const engine::Model& model, int64_t max_batch_size) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> batches{1};
  for (int64_t b = 2; b <= max_batch_size; ++b) batches.push_back(b);
  engine::RunContext context;
  for (int64_t batch : batches) {
    std::vector<engine::Tensor> inputs;
    std::vector<engine::TensorView> views;
    for (const engine::TensorInfo& info : model.info().inputs) {
      engine::Shape shape = info.shape;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] < 0) shape[d] = d == 0 ? batch : 1;
      }
      inputs.emplace_back(info.dtype, shape);
      views.push_back({inputs.back().dtype(), inputs.back().shape(), inputs.back().data()});
    }
    if (absl::StatusOr<std::vector<engine::Tensor>> out = model.Run(context, views); !out.ok()) {
      spdlog::warn(
          "model {} version {}: warm-up run at batch {} failed ({}); plans for it are "
          "made on the first request",
          where.model, where.version, batch, out.status().ToString());
      return;
    }
  }
  spdlog::info(
      "model {} version {}: warmed up (batch {}) in {:.1f} ms", where.model, where.version,
      batches.size() == 1 ? std::string("1") : absl::StrCat("1 to ", batches.back()),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

// Logs a failed load and counts it; returns `status`.
absl::Status LoadFailed(const ModelVersionPath& where, const absl::Status& status,
                        Metrics* metrics) {
  spdlog::error("model {} version {}: failed to load {}: {}", where.model, where.version,
                where.path, status.ToString());
  if (metrics != nullptr) {
    metrics->SetModelState(where.model, where.version, VersionState::kFailed);
    metrics->RecordModelLoadFailure(where.model, where.version);
  }
  return status;
}

// The first half of a version's load, which needs nothing from the other versions, so
// the versions of a reload can run it at once on the load pool: the compiled, warmed-up
// engine model.
struct LoadedModel {
  std::shared_ptr<const engine::Model> model;
  engine::LoadOptions load;  // as used: the config's threads_per_run applied
  std::chrono::steady_clock::time_point start;
};

absl::StatusOr<LoadedModel> LoadEngineModel(const ModelVersionPath& where,
                                            const ModelConfig& config,
                                            const engine::LoadOptions& options, Metrics* metrics) {
  LoadedModel loaded;
  loaded.start = std::chrono::steady_clock::now();
  loaded.load = options;
  if (config.instances().threads_per_run() > 0) {
    loaded.load.threads = static_cast<int>(config.instances().threads_per_run());
  }
  const int64_t max_batch_size = config.batching().max_batch_size();
  if (max_batch_size > 1) {
    // The engine plans per input shape: keep a plan for every batch size batching forms.
    loaded.load.max_cached_plans = std::max<size_t>(loaded.load.max_cached_plans, max_batch_size);
  }
  absl::StatusOr<std::shared_ptr<const engine::Model>> model =
      engine::LoadModel(where.path, loaded.load);
  if (!model.ok()) return LoadFailed(where, model.status(), metrics);
  if (!config.format().empty() && (*model)->info().format != config.format()) {
    return LoadFailed(where,
                      absl::InvalidArgumentError(absl::StrCat(
                          where.path, ": config.pbtxt says format: \"", config.format(),
                          "\", but the file is a ", (*model)->info().format, " model")),
                      metrics);
  }
  if (max_batch_size > 1) {
    if (absl::Status s = CheckBatchable((*model)->info()); !s.ok()) {
      return LoadFailed(
          where,
          absl::Status(s.code(),
                       absl::StrCat(where.path, ": config.pbtxt sets batching { max_batch_size: ",
                                    max_batch_size, " }: ", s.message())),
          metrics);
    }
  }
  WarmUp(where, **model, max_batch_size);
  loaded.model = *std::move(model);
  return loaded;
}

// The second half: the signatures (borrowing names from `previous`, the version below,
// which is why versions finish one at a time in ascending order), the request queue and
// the metric handles.
absl::StatusOr<std::shared_ptr<const Servable>> MakeServable(const ModelVersionPath& where,
                                                             const ModelConfig& config,
                                                             LoadedModel loaded,
                                                             int default_workers, Metrics* metrics,
                                                             const PreviousSignatures* previous) {
  const std::string model_dir = fs::path(where.path).parent_path().parent_path().string();
  absl::StatusOr<ServableSignatures> signatures =
      BuildSignatures(loaded.model->info(), model_dir, previous, SignatureFileOf(config));
  if (!signatures.ok()) return LoadFailed(where, signatures.status(), metrics);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - loaded.start).count();
  const engine::LoadOptions& load = loaded.load;
  std::shared_ptr<Servable> servable(new Servable(), DestroyServable);
  servable->name = where.model;
  servable->version = where.version;
  servable->path = where.path;
  servable->config = config;
  servable->model = std::move(loaded.model);
  servable->signatures = std::move(signatures->signatures);
  servable->default_signature = std::move(signatures->default_signature);
  absl::StatusOr<std::unique_ptr<Batcher>> batcher = Batcher::Create(
      BatcherOptionsFor(where, config, load.threads, default_workers),
      [model = servable->model](engine::RunContext& context,
                                absl::Span<const engine::TensorView> inputs) {
        return model->Run(context, inputs);
      },
      metrics == nullptr ? nullptr : metrics->ForQueue(where.model, where.version));
  if (!batcher.ok()) return LoadFailed(where, batcher.status(), metrics);
  servable->batcher = *std::move(batcher);
  if (metrics != nullptr) {
    std::vector<std::string> signature_names;
    for (const auto& [name, sig] : servable->signatures) signature_names.push_back(name);
    servable->metrics = metrics->ForModel(where.model, where.version, signature_names);
    metrics->RecordModelLoad(where.model, where.version, seconds);
    metrics->SetModelState(where.model, where.version, VersionState::kAvailable);
  }
  const engine::ModelInfo& info = servable->model->info();
  for (const auto& [name, sig] : servable->signatures) {
    spdlog::info("model {} version {}: signature '{}'{}: {}", where.model, where.version, name,
                 name == servable->default_signature ? " (default)" : "", DescribeBindings(sig));
  }
  spdlog::info(
      "model {} version {}: loaded {} in {:.1f} ms ({} nodes, {} int8 kernels); "
      "inputs: {}; outputs: {}",
      where.model, where.version, where.path, seconds * 1e3, info.num_nodes, info.num_int8_kernels,
      DescribeTensors(info.inputs), DescribeTensors(info.outputs));
  const Batcher::Options& queue = servable->batcher->options();
  spdlog::info("model {} version {}: {} worker(s), engine threads per run: {}, {}", where.model,
               where.version, queue.workers,
               load.threads > 0 ? absl::StrCat(load.threads) : "all cores",
               queue.max_batch_size > 1
                   ? absl::StrCat("batching up to ", queue.max_batch_size, " rows, max delay ",
                                  absl::FormatDuration(queue.max_queue_delay), ", queue ",
                                  queue.max_queue_size)
                   : absl::StrCat("no batching, queue ", queue.max_queue_size));
  return std::shared_ptr<const Servable>(std::move(servable));
}

}  // namespace

// The reload of one model directory against its entry in the current map (`old`, null for
// a new model): a small object so the steps can share what they learned about the disk.
// Runs as one task on the load pool; its versions' engine loads run as tasks of their own.
// Touches only its own model's state (entry, report, described versions), apart from the
// repository's thread-safe in-progress table and metrics.
class ModelReload {
 public:
  ModelReload(ModelRepository& repository, const ModelDir& dir, const ModelEntry* old,
              std::map<int64_t, ModelRepository::Described>& described, ReloadReport* report)
      : repository_(repository), dir_(dir), old_(old), described_(described), report_(report) {}

  ModelEntry Run();

 private:
  ModelEntry BrokenConfig(const absl::Status& status);
  // Loads the versions of one round of the policy: the engine halves at once on the load
  // pool, then their servables in ascending order. Returns false when the repository is
  // stopping (the round was cut short).
  bool LoadRound(const std::vector<int64_t>& round);
  // Keeps what version `v` had when its files are unchanged since its last load attempt
  // (its servable, or its failure: not retried). False when it must load.
  bool KeepUnchanged(int64_t v);
  // The engine half of version `v`'s load (any load pool thread).
  absl::StatusOr<LoadedModel> LoadEngineHalf(int64_t v);
  // Finishes version `v`'s load from its engine half and records the outcome.
  void Finish(int64_t v, absl::StatusOr<LoadedModel> loaded);
  // The signatures of the nearest version below `v` that has some without loading it.
  std::optional<PreviousSignatures> PreviousFor(int64_t v);
  const ModelRepository::Described& Describe(int64_t v);
  const std::shared_ptr<const Servable>* OldServing(int64_t v) const {
    if (old_ == nullptr) return nullptr;
    auto it = old_->serving.find(v);
    return it == old_->serving.end() ? nullptr : &it->second;
  }
  const VersionStatus* OldStatus(int64_t v) const {
    if (old_ == nullptr) return nullptr;
    auto it = old_->versions.find(v);
    return it == old_->versions.end() ? nullptr : &it->second;
  }
  void Report(int64_t version, ChangeKind kind, std::string reason) {
    report_->changes.push_back({dir_.name, version, kind, std::move(reason)});
  }

  ModelRepository& repository_;
  const ModelDir& dir_;
  const ModelEntry* const old_;
  std::map<int64_t, ModelRepository::Described>& described_;  // this model's
  ReloadReport* const report_;                                // this model's
  ModelConfig config_;
  std::map<int64_t, ModelVersionPath> on_disk_;
  std::map<int64_t, FileStamp> stamps_;
  ModelEntry entry_;
};

ModelEntry ModelReload::BrokenConfig(const absl::Status& status) {
  ModelEntry entry = old_ != nullptr ? *old_ : ModelEntry{};
  const bool already_reported = old_ != nullptr && old_->error == status;
  entry.error = status;
  if (old_ == nullptr) {
    entry.config.set_name(dir_.name);
    for (const auto& [v, version_dir] : dir_.versions) {
      VersionStatus& version = entry.versions[v];
      version.state = VersionState::kFailed;
      version.path = ModelFileIn(version_dir, "");
      version.error = status;
    }
  }
  if (already_reported) return entry;
  spdlog::error("model {}: {}; {}", dir_.name, std::string(status.message()),
                old_ != nullptr ? "its versions stay as they were"
                                : "none of its versions can load until it is fixed");
  Report(0, ChangeKind::kFailed, std::string(status.message()));
  if (Metrics* metrics = repository_.metrics_; metrics != nullptr) {
    metrics->RecordModelLoadFailure(dir_.name, /*version=*/0);
    if (old_ == nullptr) {
      for (const auto& [v, version] : entry.versions) {
        metrics->SetModelState(dir_.name, v, VersionState::kFailed);
      }
    }
  }
  return entry;
}

const ModelRepository::Described& ModelReload::Describe(int64_t v) {
  {
    auto it = described_.find(v);
    if (it != described_.end() && it->second.stamp == stamps_.at(v)) return it->second;
  }
  ModelRepository::Described described;
  described.stamp = stamps_.at(v);
  absl::StatusOr<engine::ModelInfo> info = engine::DescribeModelFile(on_disk_.at(v).path);
  if (!info.ok()) {
    described.signatures = info.status();
  } else {
    std::optional<PreviousSignatures> previous = PreviousFor(v);  // recursion goes down
    described.signatures = BuildSignatures(*info, dir_.path, previous ? &*previous : nullptr,
                                           SignatureFileOf(config_));
  }
  spdlog::debug("model {} version {}: described (not served) for the names it lends: {}", dir_.name,
                v, described.signatures.status().ToString());
  // Assigned after the recursion above, which may have added other (lower) entries.
  ModelRepository::Described& slot = described_[v];
  slot = std::move(described);
  return slot;
}

std::optional<PreviousSignatures> ModelReload::PreviousFor(int64_t v) {
  for (auto it = on_disk_.lower_bound(v); it != on_disk_.begin();) {
    --it;
    const int64_t below = it->first;
    const Servable* servable = nullptr;
    if (auto s = entry_.serving.find(below); s != entry_.serving.end()) {
      servable = s->second.get();
    } else if (const std::shared_ptr<const Servable>* old = OldServing(below)) {
      servable = old->get();  // `old_` stays alive (the current map) for the whole reload
    }
    if (servable != nullptr) {
      return PreviousSignatures{below, &servable->signatures, servable->default_signature};
    }
    const ModelRepository::Described& described = Describe(below);
    if (described.signatures.ok()) {
      return PreviousSignatures{below, &described.signatures->signatures,
                                described.signatures->default_signature};
    }
  }
  return std::nullopt;
}

bool ModelReload::KeepUnchanged(int64_t v) {
  const VersionStatus* was = OldStatus(v);
  if (was == nullptr || was->stamp != stamps_.at(v)) return false;
  if (const std::shared_ptr<const Servable>* was_serving = OldServing(v)) {
    entry_.serving.emplace(v, *was_serving);  // unchanged and serving: the same servable goes on
    entry_.versions[v] = *was;
    return true;
  }
  if (was->state == VersionState::kFailed) {  // unchanged and broken: not retried
    entry_.versions[v] = *was;
    return true;
  }
  return false;
}

absl::StatusOr<LoadedModel> ModelReload::LoadEngineHalf(int64_t v) {
  // Between loads is where a shutdown stops a reload: a load cannot be interrupted.
  if (repository_.Stopping()) return absl::CancelledError("the server is shutting down");
  const ModelRepository::Options& options = repository_.options_;
  if (options.before_load) options.before_load(on_disk_.at(v));
  return LoadEngineModel(on_disk_.at(v), config_, options.load, repository_.metrics_);
}

void ModelReload::Finish(int64_t v, absl::StatusOr<LoadedModel> loaded) {
  const std::shared_ptr<const Servable>* was_serving = OldServing(v);
  absl::StatusOr<std::shared_ptr<const Servable>> servable;
  if (loaded.ok()) {
    std::optional<PreviousSignatures> previous = PreviousFor(v);
    const ModelRepository::Options& options = repository_.options_;
    servable = MakeServable(on_disk_.at(v), config_, *std::move(loaded), options.workers,
                            repository_.metrics_, previous ? &*previous : nullptr);
  } else {
    servable = loaded.status();  // logged and counted by LoadEngineModel
  }
  VersionStatus& status = entry_.versions[v];
  status.path = on_disk_.at(v).path;
  status.stamp = stamps_.at(v);
  if (servable.ok()) {
    status.state = VersionState::kAvailable;
    entry_.serving.emplace(v, *std::move(servable));
    Report(v, was_serving != nullptr ? ChangeKind::kReloaded : ChangeKind::kLoaded, "");
    return;
  }
  Report(v, ChangeKind::kFailed, std::string(servable.status().message()));
  if (was_serving != nullptr) {
    // Availability first: the earlier load of this version keeps serving.
    spdlog::warn("model {} version {}: keeps serving its earlier load", dir_.name, v);
    entry_.serving.emplace(v, *was_serving);
    status.state = VersionState::kAvailable;
    status.error = absl::Status(servable.status().code(),
                                absl::StrCat("a reload failed; the earlier load keeps serving: ",
                                             servable.status().message()));
    return;
  }
  status.state = VersionState::kFailed;
  status.error = servable.status();
  // Shown as failed from now on, not only once the whole reload is published.
  repository_.SetInProgress(dir_.name, config_, v, status);
}

bool ModelReload::LoadRound(const std::vector<int64_t>& round) {
  std::vector<int64_t> to_load;
  for (int64_t v : round) {
    if (!KeepUnchanged(v)) to_load.push_back(v);
  }
  if (to_load.empty()) return true;
  // Loading (in status reports) from now on, while waiting for a pool thread too.
  for (int64_t v : to_load) {
    VersionStatus loading;
    loading.state = VersionState::kLoading;
    loading.path = on_disk_.at(v).path;
    loading.stamp = stamps_.at(v);
    repository_.SetInProgress(dir_.name, config_, v, std::move(loading));
    if (Metrics* metrics = repository_.metrics_; metrics != nullptr) {
      metrics->SetModelState(dir_.name, v, VersionState::kLoading);
    }
  }
  // One slot per version, made before the tasks start: each task writes only its own.
  std::map<int64_t, absl::StatusOr<LoadedModel>> halves;
  std::vector<std::function<void()>> tasks;
  for (int64_t v : to_load) {
    absl::StatusOr<LoadedModel>* slot =
        &halves.emplace(v, absl::UnknownError("not loaded")).first->second;
    tasks.push_back([this, v, slot] { *slot = LoadEngineHalf(v); });
  }
  repository_.pool_->RunAll(std::move(tasks));
  for (int64_t v : to_load) {
    if (repository_.Stopping()) return false;
    Finish(v, std::move(halves.at(v)));
  }
  return true;
}

ModelEntry ModelReload::Run() {
  absl::StatusOr<ModelConfig> config = ReadModelConfig(dir_.path, dir_.name);
  if (!config.ok()) return BrokenConfig(config.status());
  config_ = *std::move(config);
  entry_.config = config_;
  const bool config_changed = old_ == nullptr || !old_->error.ok() ||
                              old_->config.SerializeAsString() != config_.SerializeAsString();

  const uint64_t config_hash = ConfigHash(dir_.path, SignatureFileOf(config_));
  std::vector<int64_t> versions;
  for (const auto& [v, version_dir] : dir_.versions) {
    on_disk_[v] = ModelVersionPath{dir_.name, v,
                                   ModelFileIn(version_dir, config_.model_file(), config_.format())};
    stamps_[v] = StampOf(on_disk_[v].path, config_hash);
    versions.push_back(v);
  }
  const std::string policy = DescribeVersionPolicy(config_.version_policy());
  const VersionSelection selection = SelectVersions(config_.version_policy(), versions);
  if (config_changed) {
    if (versions.empty()) {
      spdlog::warn(
          "repository {}: model '{}' has no version directories (expected {}/<version>/{})",
          repository_.options_.root, dir_.name, dir_.name,
          config_.model_file().empty() ? absl::StrJoin(engine::ModelFileNames(), " or ")
                                       : config_.model_file());
    }
    for (int64_t v : config_.version_policy().specific().versions()) {
      if (!on_disk_.count(v)) {
        spdlog::warn("model {}: version policy {} names version {}, which is not on disk",
                     dir_.name, policy, v);
      }
    }
  }

  // Newest first until `wanted` serve; each round loads what is still missing in
  // ascending order, so a version can borrow the names of the one just below it.
  size_t next = 0;
  while (entry_.serving.size() < selection.wanted && next < selection.candidates.size()) {
    std::vector<int64_t> round;
    while (entry_.serving.size() + round.size() < selection.wanted &&
           next < selection.candidates.size()) {
      round.push_back(selection.candidates[next++]);
    }
    std::sort(round.begin(), round.end());
    if (!LoadRound(round)) return std::move(entry_);  // stopping: ReloadNow publishes nothing
  }

  if (entry_.serving.empty() && old_ != nullptr && !old_->serving.empty()) {
    // Availability first: nothing the policy selects can serve, so what served goes on.
    std::vector<int64_t> kept;
    for (const auto& [v, servable] : old_->serving) {
      if (!on_disk_.count(v)) continue;
      entry_.serving.emplace(v, servable);
      VersionStatus& status = entry_.versions[v];
      status = old_->versions.at(v);
      kept.push_back(v);
    }
    if (!kept.empty()) {
      spdlog::warn("model {}: no version selected by policy {} can serve; keeping version(s) {}",
                   dir_.name, policy, absl::StrJoin(kept, ", "));
    }
  }

  for (const auto& [v, where] : on_disk_) {
    if (entry_.versions.count(v)) continue;
    VersionStatus& status = entry_.versions[v];
    if (const VersionStatus* was = OldStatus(v)) status.stamp = was->stamp;
    status.state = VersionState::kUnloaded;
    status.path = where.path;
    status.error =
        absl::FailedPreconditionError(absl::StrCat("outside the version policy (", policy, ")"));
  }
  if (old_ != nullptr) {
    for (const auto& [v, servable] : old_->serving) {
      if (entry_.serving.count(v)) continue;
      const std::string why = on_disk_.count(v)
                                  ? absl::StrCat("outside the version policy (", policy, ")")
                                  : "its version directory was removed";
      spdlog::info(
          "model {} version {}: no longer served ({}); it unloads when its last "
          "request finishes",
          dir_.name, v, why);
      Report(v, ChangeKind::kUnloaded, why);
    }
  }
  if (Metrics* metrics = repository_.metrics_; metrics != nullptr) {
    for (const auto& [v, status] : entry_.versions)
      metrics->SetModelState(dir_.name, v, status.state);
    if (old_ != nullptr) {
      for (const auto& [v, status] : old_->versions) {
        if (!entry_.versions.count(v))
          metrics->SetModelState(dir_.name, v, VersionState::kUnloaded);
      }
    }
  }
  if (entry_.serving.empty() && (old_ == nullptr || !old_->serving.empty())) {
    spdlog::error("model {}: no loadable version; it is not served", dir_.name);
  }
  return std::move(entry_);
}

absl::StatusOr<ReloadReport> ModelRepository::ReloadNow() {
  absl::StatusOr<std::vector<ModelDir>> dirs = ScanModelDirs(options_.root);
  if (!dirs.ok()) {
    spdlog::error("repository reload: {}; the serving map is unchanged", dirs.status().ToString());
    return dirs.status();
  }
  const std::shared_ptr<const ServingMap> current = Snapshot();
  // Every model reloads as one task on the load pool, into its own slots.
  std::vector<ModelEntry> entries(dirs->size());
  std::vector<ReloadReport> reports(dirs->size());
  std::vector<std::function<void()>> tasks;
  for (size_t i = 0; i < dirs->size(); ++i) {
    const ModelDir& dir = (*dirs)[i];
    std::map<int64_t, Described>& described = described_[dir.name];  // before the tasks run
    tasks.push_back([this, &dir, &described, &current, entry = &entries[i], report = &reports[i]] {
      *entry = ModelReload(*this, dir, current->FindModel(dir.name), described, report).Run();
    });
  }
  pool_->RunAll(std::move(tasks));
  if (Stopping()) {
    ClearInProgress();
    return absl::CancelledError("the server is shutting down; the reload published nothing");
  }
  auto next = std::make_shared<ServingMap>();
  ReloadReport report;  // in model order, whatever order the models finished in
  for (size_t i = 0; i < dirs->size(); ++i) {
    next->models.emplace((*dirs)[i].name, std::move(entries[i]));
    for (VersionChange& change : reports[i].changes) report.changes.push_back(std::move(change));
  }
  for (const auto& [name, entry] : current->models) {
    if (next->models.count(name)) continue;
    for (const auto& [v, servable] : entry.serving) {
      spdlog::info(
          "model {} version {}: no longer served (its model directory was removed); "
          "it unloads when its last request finishes",
          name, v);
      report.changes.push_back({name, v, ChangeKind::kUnloaded, "its model directory was removed"});
    }
    if (metrics_ != nullptr) {
      for (const auto& [v, status] : entry.versions) {
        metrics_->SetModelState(name, v, VersionState::kUnloaded);
      }
    }
  }
  // Forget descriptions of versions no longer on disk.
  for (auto model = described_.begin(); model != described_.end();) {
    const ModelEntry* entry = next->FindModel(model->first);
    for (auto it = model->second.begin(); it != model->second.end();) {
      const bool on_disk = entry != nullptr && entry->versions.count(it->first) > 0;
      it = on_disk ? std::next(it) : model->second.erase(it);
    }
    model = model->second.empty() ? described_.erase(model) : std::next(model);
  }
  Publish(std::move(next));
  if (!report.changes.empty()) {
    spdlog::info("repository {}: reload: {}", options_.root,
                 absl::StrJoin(report.changes, ", ", [](std::string* out, const VersionChange& c) {
                   absl::StrAppend(out, c.model, c.version > 0 ? absl::StrCat(" v", c.version) : "",
                                   " ", ChangeKindName(c.kind));
                 }));
  }
  return report;
}

namespace {

// Options::load_threads, 0 resolved: min(2, cores).
int LoadThreads(int requested) {
  if (requested > 0) return requested;
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 2);
}

}  // namespace

ModelRepository::ModelRepository(Options options, Metrics* metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      pool_(std::make_unique<LoadPool>(LoadThreads(options_.load_threads))) {}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options,
                                                                         Metrics* metrics) {
  std::unique_ptr<ModelRepository> repository(new ModelRepository(options, metrics));
  absl::StatusOr<ReloadReport> first = repository->ReloadNow();
  if (!first.ok()) return first.status();
  const std::shared_ptr<const ServingMap> map = repository->Snapshot();
  if (!map->AnyServing()) {
    std::vector<std::string> failures;
    for (const auto& [name, entry] : map->models) {
      if (!entry.error.ok()) failures.push_back(std::string(entry.error.message()));
      for (const auto& [v, status] : entry.versions) {
        if (status.state == VersionState::kFailed && entry.error.ok()) {
          failures.push_back(absl::StrCat(status.path, ": ", status.error.message()));
        }
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("no model could be loaded from repository '", options.root, "' (expected ",
                     "<model>/<version>/", absl::StrJoin(engine::ModelFileNames(), "|"), ")",
                     failures.empty() ? std::string(": no model versions found")
                                      : absl::StrCat(": ", absl::StrJoin(failures, "; "))));
  }
  repository->loader_ = std::thread([r = repository.get()] { r->LoadLoop(); });
  spdlog::info("repository {}: {} version load(s) at once{}", options.root,
               repository->pool_->threads(),
               options.poll_interval.count() > 0
                   ? absl::StrCat(", rescanning every ", options.poll_interval.count(), " ms")
                   : "");
  return repository;
}

ModelRepository::~ModelRepository() {
  std::vector<ReloadDone> left;
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
    left.swap(pending_);
  }
  // Queued callers hear at once rather than after the reload in progress: it may be in
  // the middle of a long load.
  for (ReloadDone& done : left) done(absl::CancelledError("the server is shutting down"));
  if (loader_.joinable()) loader_.join();
  // pool_ (a member) joins its workers after this: the loader, its only user, is gone.
}

bool ModelRepository::Stopping() const {
  absl::MutexLock lock(&queue_mu_);
  return stopping_;
}

bool ModelRepository::ReadyToReload() const { return stopping_ || !pending_.empty(); }

void ModelRepository::LoadLoop() {
  for (;;) {
    std::vector<ReloadDone> batch;
    bool stop = false;
    {
      absl::MutexLock lock(&queue_mu_);
      const absl::Condition ready(this, &ModelRepository::ReadyToReload);
      // A timeout with nothing pending is a poll tick: it rescans like a request does.
      if (options_.poll_interval.count() > 0) {
        queue_mu_.AwaitWithTimeout(ready, absl::FromChrono(options_.poll_interval));
      } else {
        queue_mu_.Await(ready);
      }
      // One request per rescan, in arrival order: each caller's report is its own.
      if (stopping_) {
        batch.swap(pending_);
      } else if (!pending_.empty()) {
        batch.push_back(std::move(pending_.front()));
        pending_.erase(pending_.begin());
      }
      stop = stopping_;
    }
    if (stop) {
      for (ReloadDone& done : batch) done(absl::CancelledError("the server is shutting down"));
      return;
    }
    const absl::StatusOr<ReloadReport> result = ReloadNow();
    for (ReloadDone& done : batch) done(result);
  }
}

void ModelRepository::RequestReload(ReloadDone done) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      pending_.push_back(std::move(done));
      return;
    }
  }
  done(absl::CancelledError("the server is shutting down"));
}

absl::StatusOr<ReloadReport> ModelRepository::Reload() {
  absl::Notification finished;
  absl::StatusOr<ReloadReport> result;
  RequestReload([&](const absl::StatusOr<ReloadReport>& r) {
    result = r;
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

std::shared_ptr<const ServingMap> ModelRepository::Snapshot() const {
  return map_.load(std::memory_order_acquire);
}

void ModelRepository::Publish(std::shared_ptr<const ServingMap> map) {
  std::shared_ptr<const ServingMap> old;
  {
    absl::MutexLock lock(&in_progress_mu_);
    old = map_.exchange(std::move(map), std::memory_order_acq_rel);
    in_progress_.clear();
  }
  // `old` is released here: dropping the last reference to a servable frees a compiled
  // model, which happens on the publishing (load) thread, not under any lock.
}

void ModelRepository::SetInProgress(const std::string& model,
                                    const q8serve::v1::ModelConfig& config, int64_t version,
                                    VersionStatus status) {
  absl::MutexLock lock(&in_progress_mu_);
  InProgress& entry = in_progress_[model];
  entry.config = config;
  entry.versions[version] = std::move(status);
}

void ModelRepository::ClearInProgress() {
  absl::MutexLock lock(&in_progress_mu_);
  in_progress_.clear();
}

std::shared_ptr<const ServingMap> ModelRepository::StatusSnapshot() const {
  absl::MutexLock lock(&in_progress_mu_);
  std::shared_ptr<const ServingMap> published = Snapshot();
  if (in_progress_.empty()) return published;
  auto merged = std::make_shared<ServingMap>(*published);
  for (const auto& [name, progress] : in_progress_) {
    auto [it, is_new] = merged->models.try_emplace(name);
    ModelEntry& entry = it->second;
    if (is_new) entry.config = progress.config;
    for (const auto& [v, status] : progress.versions) {
      if (entry.serving.count(v)) continue;  // serves until the swap
      entry.versions[v] = status;
    }
  }
  return merged;
}

}  // namespace q8::server
