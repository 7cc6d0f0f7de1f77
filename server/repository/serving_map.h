// The ServingMap: an immutable snapshot of every model version the server knows about,
// which of them serve, and why the others do not.
//
// Readers take a shared_ptr<const ServingMap> from ModelRepository::Snapshot() and use
// it without locks; a change (a load, a future hot reload) builds a new map and the
// repository replaces the published pointer whole (TF Serving's serving-map idea).
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
#include "server/repository/servable.h"
#include "server/repository/version_state.h"

namespace q8::server {

// What the server knows about one version, serving or not.
struct VersionStatus {
  VersionState state = VersionState::kLoading;
  std::string path;    // model file
  absl::Status error;  // why it failed, for kFailed
};

struct ModelEntry {
  // Versions that serve, by version number (the highest one is "latest").
  std::map<int64_t, std::shared_ptr<const Servable>> serving;
  // Every version found in the repository, including failed ones.
  std::map<int64_t, VersionStatus> versions;
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
