// Where tests find their material: the repository (Q8_SOURCE_DIR) and the shared test
// data nobody on the team wrote (Q8_SHARED_DIR, default ../shared beside the repo).
// CTest sets both (tests/CMakeLists.txt). Missing material fails the test loudly: a
// reference that silently disappears must not turn into a pass.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace q8::testing {

inline std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

inline std::string SourceDir() { return EnvOr("Q8_SOURCE_DIR", "."); }
inline std::string SharedDir() { return EnvOr("Q8_SHARED_DIR", SourceDir() + "/../shared"); }

// Path of a file that must exist; the calling test fails (not skips) when it does not.
inline std::string RequireFile(const std::string& path) {
  EXPECT_TRUE(std::filesystem::exists(path))
      << "missing test material: " << path
      << " (set Q8_SHARED_DIR / Q8_SOURCE_DIR, see tests/CMakeLists.txt)";
  return path;
}

}  // namespace q8::testing
