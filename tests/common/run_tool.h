// Runs one of the project's command-line tools (q8c, q8run) as a subprocess, as a user
// would, for end-to-end tests of their output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/common/test_env.h"

namespace q8::testing {

enum class Stderr { kMerged, kDropped };

// Runs the binary named by environment variable `binary_env` (Q8C_BIN, Q8RUN_BIN: ctest
// sets them) with `args` through the shell; returns its stdout (with stderr merged or
// dropped) and sets *code to its exit code (-1 if it did not exit normally).
inline std::string RunTool(const char* binary_env, const std::string& args, Stderr err,
                           int* code) {
  const std::string binary = EnvOr(binary_env, "");
  EXPECT_FALSE(binary.empty()) << binary_env << " is not set (run through ctest)";
  std::string out;
  *code = -1;
  const char* redirect = err == Stderr::kMerged ? " 2>&1" : " 2>/dev/null";
  FILE* pipe = popen((binary + " " + args + redirect).c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace q8::testing
