// Lifecycle state of one model version, as reported by KServe ModelReady and the
// q8serve_model_state metric.
#pragma once

#include <array>

#include "absl/strings/string_view.h"

namespace q8::server {

enum class VersionState {
  kLoading,    // LoadModel in progress
  kAvailable,  // loaded and serving
  kFailed,     // last load attempt failed; never serving
};

inline constexpr std::array<VersionState, 3> kAllVersionStates = {
    VersionState::kLoading, VersionState::kAvailable, VersionState::kFailed};

// Lower-case label value: "loading", "available", "failed".
constexpr absl::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "loading";
    case VersionState::kAvailable:
      return "available";
    case VersionState::kFailed:
      return "failed";
  }
  return "unknown";
}

}  // namespace q8::server
