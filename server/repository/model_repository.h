// The model repository: finds model versions on disk, loads them, and publishes the
// ServingMap that requests read.
//
// Layout: <root>/<model>/<version>/model.{onnx,tflite,...} (engine::ModelFileNames()), where <version> is a positive integer
// directory name. Other entries (files, hidden or non-numeric directories) are skipped
// with a warning. Every version is loaded at start.
//
// Availability first (TF Serving's availability-preserving policy): a failed load is
// logged with the file and reason, recorded as VersionState::kFailed (KServe ModelReady,
// q8serve_model_state) and counted, but it never replaces a serving version and is not
// cached as a servable.
//
// Thread-safety: Snapshot() is thread-safe and lock-light (a shared_ptr copy under a
// mutex). The published map is immutable; changes replace it whole (Publish).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "server/metrics/metrics.h"
#include "server/repository/serving_map.h"
#include "server/signature/signature_builder.h"

namespace q8::server {

// One version directory found by ScanRepository.
struct ModelVersionPath {
  std::string model;
  int64_t version = 0;
  std::string path;  // <root>/<model>/<version>/model.<ext> (may not exist)
};

// Lists model versions under `root`, sorted by (model, version). NOT_FOUND if `root` is
// not a directory. A version directory without a model file is still listed, so its load
// fails loudly instead of the version silently vanishing.
absl::StatusOr<std::vector<ModelVersionPath>> ScanRepository(const std::string& root);

// Loads one version: engine::LoadModel, then its signatures (signature_builder.h), with
// `previous` (may be null) the version whose logical names carry over. `metrics` may be
// null. Logs the load (file, time, tensors, bindings) or the failure.
absl::StatusOr<std::shared_ptr<const Servable>> LoadServable(
    const ModelVersionPath& where, const engine::LoadOptions& options, Metrics* metrics,
    const PreviousSignatures* previous = nullptr);

class ModelRepository {
 public:
  struct Options {
    // Repository root: <root>/<model>/<version>/model.<ext>.
    std::string root;
    // Passed to engine::LoadModel for every version (threads per Run, plan cache).
    engine::LoadOptions load;
  };

  // Scans `options.root` and loads every version found. Succeeds when at least one
  // version of one model loaded (the others are reported and recorded as failed);
  // fails with NOT_FOUND for a missing root or FAILED_PRECONDITION, naming every
  // failure, when nothing loaded. `metrics` may be null; it must outlive the repository.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(const Options& options,
                                                                 Metrics* metrics);

  // The current serving map; never null.
  std::shared_ptr<const ServingMap> Snapshot() const;

  // Replaces the serving map whole. For hot reload: build the next map from Snapshot(),
  // keeping serving versions whose reload failed.
  void Publish(std::shared_ptr<const ServingMap> map);

 private:
  explicit ModelRepository(Options options) : options_(std::move(options)) {}

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ServingMap> map_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const ServingMap>();
};

}  // namespace q8::server
