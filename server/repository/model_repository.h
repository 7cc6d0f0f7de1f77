// The model repository: finds model versions on disk, loads the ones each model's version
// policy selects, and publishes the ServingMap that requests read. It rescans on demand
// (the ReloadRepository RPC) and, when asked to, periodically (--repository-poll-secs).
//
// Layout:
//   <root>/<model>/config.pbtxt          optional, q8serve.v1.ModelConfig (model_config.h)
//   <root>/<model>/signatures.pbtxt      optional (or the config's signature_file)
//   <root>/<model>/<version>/model.onnx  (the config's model_file, or the first of
//                                         engine::ModelFileNames() present)
// <version> is a positive integer directory name. Other entries are skipped with a
// warning; hidden ones (".3.partial") silently, so a new version copied in under a hidden
// name and then renamed is never seen half-written.
//
// One reload (the first load at Create, a poll tick and the RPC all do the same):
//  - each model's config.pbtxt is read; an invalid one is reported and leaves the model
//    exactly as it was (a new model with a broken config has its versions FAILED);
//  - the version policy (default latest 1) picks versions, newest first; in `latest N`
//    a version that fails to load lets the next older one in;
//  - a version whose files are unchanged since its last load attempt keeps its servable,
//    or its failure (not retried, logged or counted again until its files change);
//  - new or changed versions load on the load pool (load_pool.h, Options::load_threads;
//    never a request thread): models load in parallel, and so do the versions one round
//    of a model's policy loads (engine import, compile and warm-up); their servables are
//    then made in ascending order, since each borrows the logical names of the version
//    below it (signature_builder.h), which, when it is not served, is described from its
//    file (engine::DescribeModelFile), not loaded;
//  - while it loads, a version shows as loading (StatusSnapshot: GetModelStatus, KServe
//    ModelReady's reason) without being in the serving map; once its load has failed,
//    as failed with the reason;
//  - availability first (TF Serving's availability-preserving policy): a failed load never
//    replaces a serving version, and a model whose selected versions all fail keeps
//    serving what it served;
//  - once every model is done, the next ServingMap is published whole (and the loading
//    versions become what it says, in the same step). A version that left it (out of the
//    policy, deleted, replaced by a reload of changed files) is logged; its Servable is
//    destroyed, and the unload logged, when the last in-flight request holding it
//    finishes.
// Every state change is logged and exported as q8serve_model_state; failed loads count
// in q8serve_model_load_failures_total.
//
// Thread-safety: Snapshot() is thread-safe and cheap: an atomic shared_ptr load, no mutex
// (every request takes one).
// StatusSnapshot() is thread-safe; it takes a mutex the reload holds only to mark
// versions loading and to publish.
// RequestReload() and Reload() may be called from any thread; reloads (RPC and poll) run
// one at a time on the load thread, so they never race; within one, the models' reloads
// share only the in-progress table (mutex-guarded) and metrics (thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "q8serve/v1/model_config.pb.h"
#include "server/metrics/metrics.h"
#include "server/repository/load_pool.h"
#include "server/repository/serving_map.h"
#include "server/signature/signature_builder.h"

namespace q8::server {

// One version directory found by ScanRepository.
struct ModelVersionPath {
  std::string model;
  int64_t version = 0;
  std::string path;  // <root>/<model>/<version>/<model file> (may not exist)
};

// Lists model versions under `root`, sorted by (model, version), with each model's file
// as its config.pbtxt's model_file names it (the default names when the config is absent
// or invalid). NOT_FOUND if `root` is not a directory. A version directory without a
// model file is still listed, so its load fails loudly instead of the version silently
// vanishing.
absl::StatusOr<std::vector<ModelVersionPath>> ScanRepository(const std::string& root);

// What one reload changed about one version.
enum class ChangeKind {
  kLoaded,    // now serving
  kReloaded,  // serving a fresh load after its files or config changed
  kFailed,    // did not load (the serving version, if any, keeps serving); version 0 =
              // the model's config.pbtxt is invalid
  kUnloaded,  // no longer served; freed when its last request finishes
};
// "loaded", "reloaded", "failed", "unloaded".
absl::string_view ChangeKindName(ChangeKind kind);

struct VersionChange {
  std::string model;
  int64_t version = 0;
  ChangeKind kind = ChangeKind::kLoaded;
  std::string reason;  // the load error, or why it was unloaded
};

struct ReloadReport {
  std::vector<VersionChange> changes;  // empty: nothing changed
};

class ModelRepository {
 public:
  struct Options {
    // Repository root (layout above).
    std::string root;
    // Passed to engine::LoadModel for every version; a model's config.pbtxt
    // instances.threads_per_run, when set, overrides `threads` for that model.
    engine::LoadOptions load;
    // Workers per version whose config.pbtxt leaves instances.workers at 0. 0: as many
    // as fit the cores at load.threads engine threads per run (1 when a run takes every
    // core), so workers never oversubscribe the CPU.
    int workers = 0;
    // Rescan period. Zero: no periodic rescan (reloads only on request). Each rescan lists
    // the directories and stats the model files; it loads nothing unless files changed.
    std::chrono::milliseconds poll_interval{0};
    // Version loads that run at once on the load pool (the reload thread is one of them).
    // 0: min(2, cores). Loads are CPU-bound (compile, weight packing, warm-up runs, each
    // with the version's engine threads) and a reloaded version's memory is held twice
    // until the swap, so more threads shorten a reload of many models at the price of
    // peak memory and of CPU taken from the requests being served. 1: one load at a time,
    // in model order.
    int load_threads = 0;
    // Test hook, null in production: called on the load pool thread as each version's
    // load starts, once StatusSnapshot() shows it loading and before engine::LoadModel.
    // It may block (the reload waits for it; so does the destructor).
    std::function<void(const ModelVersionPath&)> before_load = nullptr;
  };

  // Scans `options.root` and loads what the policies select, on the calling thread and
  // the load pool, then starts the load thread. Succeeds when at least one version of one
  // model serves (the others are reported and recorded); fails with NOT_FOUND for a
  // missing root or FAILED_PRECONDITION, naming every failure, when nothing serves.
  // `metrics` may be null; it must outlive the repository.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(const Options& options,
                                                                 Metrics* metrics);
  // Stops the load thread: pending RequestReload callbacks get CANCELLED at once; a
  // reload in progress lets the loads already running finish (a load cannot be
  // interrupted), starts no other, publishes nothing and answers CANCELLED.
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  // The current serving map; never null.
  std::shared_ptr<const ServingMap> Snapshot() const;
  // For status reports (GetModelStatus, KServe ModelReady's reason): the serving map
  // with the versions of the reload in progress that do not serve yet added to
  // `versions` as kLoading (kFailed once their load failed), and new models added with
  // those versions; never to `serving`, so Find on it answers as on Snapshot(). A serving
  // version whose changed files reload stays kAvailable: it serves until the swap. Never
  // null. Takes a mutex and, during a reload, copies the map: not for the request path.
  std::shared_ptr<const ServingMap> StatusSnapshot() const;

  using ReloadDone = std::function<void(const absl::StatusOr<ReloadReport>&)>;
  // Queues a rescan and returns at once; `done` runs on the load thread once the new map
  // is published (or with the error that left the map unchanged: the root is gone). The
  // rescan starts after this call, so its report reflects the disk as of now or later.
  // Each request gets its own rescan, in arrival order (the one after a busy one usually
  // finds nothing left to do).
  void RequestReload(ReloadDone done);
  // RequestReload, waiting for the result. Must not be called from a ReloadDone.
  absl::StatusOr<ReloadReport> Reload();

 private:
  // A version described from its file (not loaded) for the version above it to borrow
  // its logical names.
  struct Described {
    FileStamp stamp;
    absl::StatusOr<ServableSignatures> signatures = absl::UnknownError("not described yet");
  };
  // Versions of one model that the reload in progress has started loading.
  struct InProgress {
    q8serve::v1::ModelConfig config;  // as this reload read it
    // kLoading, or kFailed (with its error) once its load failed.
    std::map<int64_t, VersionStatus> versions;
  };
  friend class ModelReload;  // one model's part of ReloadNow (model_repository.cc)

  ModelRepository(Options options, Metrics* metrics);

  // One reload (see above). Load thread only (or Create, before the thread starts).
  absl::StatusOr<ReloadReport> ReloadNow();
  void LoadLoop();
  // Publishes `map` and empties the in-progress table, in one step for StatusSnapshot.
  void Publish(std::shared_ptr<const ServingMap> map);
  // Records `status` (kLoading or kFailed) for a version of `model` in the in-progress
  // table. Any load pool thread.
  void SetInProgress(const std::string& model, const q8serve::v1::ModelConfig& config,
                     int64_t version, VersionStatus status);
  void ClearInProgress();
  bool Stopping() const;
  bool ReadyToReload() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);

  const Options options_;
  Metrics* const metrics_;
  const std::unique_ptr<LoadPool> pool_;  // every load of every reload runs here

  // The published serving map: replaced whole by Publish, read by every request.
  std::atomic<std::shared_ptr<const ServingMap>> map_{std::make_shared<const ServingMap>()};

  mutable absl::Mutex queue_mu_;
  std::vector<ReloadDone> pending_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Versions being loaded by the reload in progress, by model; emptied when it publishes
  // or gives up. Written by the load pool, read by StatusSnapshot. Publish holds it while
  // it swaps map_, so a status reader sees a version either loading or as published.
  mutable absl::Mutex in_progress_mu_;
  std::map<std::string, InProgress, std::less<>> in_progress_ ABSL_GUARDED_BY(in_progress_mu_);

  // Signatures of versions that are on disk but not served, described for the version
  // above them to borrow names from; by model, then version. The outer map is changed by
  // the load thread only, outside the models' reloads; each model's inner map is used by
  // that model's reload only (so they need no lock while models reload in parallel).
  std::map<std::string, std::map<int64_t, Described>> described_;

  std::thread loader_;  // started last by Create, joined by the destructor
};

}  // namespace q8::server
