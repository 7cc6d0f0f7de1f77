// The per-model configuration file, <repository>/<model>/config.pbtxt: a
// q8serve.v1.ModelConfig (protos/q8serve/v1/model_config.proto) in protobuf text format.
//
// Parsing is strict: unknown fields, syntax errors and invalid values are load errors
// (INVALID_ARGUMENT) naming the file and, where the text has one, the line and column. A
// missing file means every default. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "q8serve/v1/model_config.pb.h"

namespace q8::server {

inline constexpr char kModelConfigFileName[] = "config.pbtxt";

// Parses and validates `text`. `path` names the file in errors; `model` is the model's
// directory name, which a set `name` must equal. The result has `name` set to `model`.
absl::StatusOr<q8serve::v1::ModelConfig> ParseModelConfig(const std::string& text,
                                                          const std::string& path,
                                                          const std::string& model);

// Reads <model_dir>/config.pbtxt; all defaults (name = `model`) when there is none.
absl::StatusOr<q8serve::v1::ModelConfig> ReadModelConfig(const std::string& model_dir,
                                                         const std::string& model);

// The signature declarations file of the model: config.signature_file or
// "signatures.pbtxt".
std::string SignatureFileOf(const q8serve::v1::ModelConfig& config);

// Which of the versions on disk the policy serves, as an order to try them in.
struct VersionSelection {
  // Newest first. Versions a `specific` policy names but the disk lacks are left out.
  std::vector<int64_t> candidates;
  // Serve the first `wanted` candidates that load: for `latest N` a version that fails
  // lets the next older one in (availability first); for `specific` and `all` every
  // candidate is wanted.
  size_t wanted = 0;
};

// `on_disk` in any order. Default policy (unset): latest 1, TF Serving's default.
VersionSelection SelectVersions(const q8serve::v1::VersionPolicy& policy,
                                std::vector<int64_t> on_disk);

// "latest 1", "latest 2", "specific [1, 3]", "all": for logs and the status RPC.
std::string DescribeVersionPolicy(const q8serve::v1::VersionPolicy& policy);

}  // namespace q8::server
