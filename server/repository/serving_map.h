// The ServingMap: an immutable snapshot of every model version the server knows about,
// which of them serve, and why the others do not.
//
// Readers take a shared_ptr<const ServingMap> from ModelRepository::Snapshot() and use
// it without locks; a reload builds a new map and the repository replaces the published
// pointer whole (TF Serving's serving-map idea). Servables are shared between
// consecutive maps, so a version that stays loaded is the same object across reloads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "q8serve/v1/model_config.pb.h"
#include "server/repository/servable.h"
#include "server/repository/version_state.h"

namespace q8::server {

// What a version's files looked like at its last load attempt. A rescan loads a version
// again only when this changed (a model file finished copying, config.pbtxt or the
// signature file was edited), so a broken version is not retried, logged and counted on
// every poll.
struct FileStamp {
  int64_t size = -1;             // model file size; -1 = missing
  int64_t mtime_ns = 0;          // model file modification time
  uint64_t config_hash = 0;      // of config.pbtxt and the signature file contents
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// What the server knows about one version, serving or not.
struct VersionStatus {
  VersionState state = VersionState::kLoading;
  std::string path;    // model file
  // kFailed: why the load failed. kUnloaded: why it is not served (the version policy).
  // kAvailable: a later load of the same version (changed files or config) that failed
  // while the earlier load keeps serving; OK otherwise.
  absl::Status error;
  FileStamp stamp;  // of the last load attempt
};

struct ModelEntry {
  // Versions that serve, by version number (the highest one is "latest").
  std::map<int64_t, std::shared_ptr<const Servable>> serving;
  // Every version found in the repository, including failed and unloaded ones.
  std::map<int64_t, VersionStatus> versions;
  // The model's config.pbtxt as last read successfully (defaults when absent).
  q8serve::v1::ModelConfig config;
  // config.pbtxt unreadable or invalid: the entry otherwise keeps what it had before.
  absl::Status error;
};

class ServingMap {
 public:
  std::map<std::string, ModelEntry, std::less<>> models;

  // The servable for `model` at `version` (latest serving version when nullopt).
  // NOT_FOUND, listing the served models or the model's serving versions (and the
  // load error when the requested version failed).
  absl::StatusOr<std::shared_ptr<const Servable>> Find(absl::string_view model,
                                                       std::optional<int64_t> version) const;

  // nullptr when the model is unknown.
  const ModelEntry* FindModel(absl::string_view model) const;

  // True when at least one version of one model serves.
  bool AnyServing() const;
  // "{digits, mlp}": models with at least one serving version.
  std::string ServingModelNames() const;
};

}  // namespace q8::server
