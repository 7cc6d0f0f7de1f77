// The real default model (deploy/models/digits/1/model.onnx: images float32 [N,64] →
// logits float32 [N,10]) and temporary repositories built from it, for the serving
// layer's unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/common/test_env.h"

namespace q8::server::testing {

inline std::string DigitsRepository() { return q8::testing::SourceDir() + "/deploy/models"; }

inline std::string DigitsModel() {
  return q8::testing::RequireFile(DigitsRepository() + "/digits/1/model.onnx");
}

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "q8serve_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  // Creates <path>/<relative> with its parents and writes `contents`.
  void Write(const std::string& relative, const std::string& contents) const {
    const std::filesystem::path target = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << contents;
  }
  // Copies `source` to <path>/<relative>, creating parents.
  void Copy(const std::string& source, const std::string& relative) const {
    const std::filesystem::path target = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy_file(source, target);
  }
  void Mkdir(const std::string& relative) const {
    std::filesystem::create_directories(std::filesystem::path(path_) / relative);
  }

 private:
  std::string path_;
};

}  // namespace q8::server::testing
