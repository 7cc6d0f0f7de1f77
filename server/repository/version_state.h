// Lifecycle state of one model version, as reported by KServe ModelReady, the
// q8serve.v1 GetModelStatus RPC and the q8serve_model_state metric.
#pragma once

#include <array>

#include "absl/strings/string_view.h"

namespace q8::server {

enum class VersionState {
  kLoading,    // LoadModel in progress
  kAvailable,  // loaded and serving
  kFailed,     // last load attempt failed; never serving
  kUnloaded,   // on disk but not served: outside the version policy, or replaced
};

inline constexpr std::array<VersionState, 4> kAllVersionStates = {
    VersionState::kLoading, VersionState::kAvailable, VersionState::kFailed,
    VersionState::kUnloaded};

// Lower-case label value: "loading", "available", "failed", "unloaded".
constexpr absl::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "loading";
    case VersionState::kAvailable:
      return "available";
    case VersionState::kFailed:
      return "failed";
    case VersionState::kUnloaded:
      return "unloaded";
  }
  return "unknown";
}

}  // namespace q8::server
