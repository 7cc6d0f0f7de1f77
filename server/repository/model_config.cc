#include "server/repository/model_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/engine.h"
#include "server/signature/declaration.h"

namespace q8::server {
namespace {

namespace fs = std::filesystem;
using google::protobuf::TextFormat;
using q8serve::v1::ModelConfig;
using q8serve::v1::VersionPolicy;

// Keeps the first text-format error with its position (the default collector only logs
// to stderr, where a user of the reload RPC never sees it).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (text_.empty()) {
      text_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
    }
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// "line 3, column 1: " for a field the parser saw, "" otherwise.
std::string At(const TextFormat::ParseInfoTree* tree, const google::protobuf::Message& message,
               const char* field, int index = -1) {
  if (tree == nullptr) return "";
  const google::protobuf::FieldDescriptor* descriptor =
      message.GetDescriptor()->FindFieldByName(field);
  TextFormat::ParseLocation where = tree->GetLocation(descriptor, index);
  if (where.line < 0) return "";
  return absl::StrCat("line ", where.line + 1, ", column ", where.column + 1, ": ");
}

constexpr uint64_t kMaxBatchSize = 1 << 16;
constexpr uint64_t kMaxQueueDelayUs = 10'000'000;
constexpr uint64_t kMaxQueueSize = 1 << 20;
constexpr uint64_t kMaxWorkers = 1024;
constexpr uint64_t kMaxThreadsPerRun = 4096;

// A file name inside the model (or version) directory: no separators, no "." or "..",
// so a config cannot point outside its model.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

absl::Status Validate(const ModelConfig& config, const TextFormat::ParseInfoTree& tree,
                      const std::string& path, const std::string& model) {
  auto error = [&](const std::string& where, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", where, what));
  };
  if (!config.name().empty() && config.name() != model) {
    return error(At(&tree, config, "name"),
                 absl::StrCat("name \"", config.name(), "\" does not match the model directory '",
                              model, "' (remove the name or set name: \"", model, "\")"));
  }
  if (!config.format().empty()) {
    const std::vector<std::string> formats = engine::ModelFormatNames();
    if (std::find(formats.begin(), formats.end(), config.format()) == formats.end()) {
      return error(At(&tree, config, "format"),
                   absl::StrCat("format \"", config.format(), "\" is not one of: ",
                                absl::StrJoin(formats, ", ")));
    }
  }
  for (const char* field : {"model_file", "signature_file"}) {
    const std::string& value =
        std::string(field) == "model_file" ? config.model_file() : config.signature_file();
    if (!value.empty() && !IsPlainFileName(value)) {
      return error(
          At(&tree, config, field),
          absl::StrCat(field, " \"", value, "\" must be a plain file name (no '/', '.' or '..')"));
    }
  }
  // Upper bounds on the queue settings: beyond them a value is a typo (a delay in ns
  // written as µs, a batch no request could fill), not a plan.
  struct Limit {
    const char* block;  // the config field holding `message`
    const google::protobuf::Message* message;
    const char* field;
    uint64_t value;
    uint64_t max;
    const char* unit;
  };
  const q8serve::v1::BatchingConfig& batching = config.batching();
  const q8serve::v1::InstanceConfig& instances = config.instances();
  for (const Limit& limit : {
           Limit{"batching", &batching, "max_batch_size", batching.max_batch_size(), kMaxBatchSize,
                 " rows"},
           Limit{"batching", &batching, "max_queue_delay_us", batching.max_queue_delay_us(),
                 kMaxQueueDelayUs, " µs (10 s)"},
           Limit{"batching", &batching, "max_queue_size", batching.max_queue_size(), kMaxQueueSize,
                 " requests"},
           Limit{"instances", &instances, "workers", instances.workers(), kMaxWorkers, ""},
           Limit{"instances", &instances, "threads_per_run", instances.threads_per_run(),
                 kMaxThreadsPerRun, ""},
       }) {
    if (limit.value <= limit.max) continue;
    const TextFormat::ParseInfoTree* nested =
        tree.GetTreeForNested(ModelConfig::descriptor()->FindFieldByName(limit.block), -1);
    return error(At(nested, *limit.message, limit.field),
                 absl::StrCat(limit.block, ".", limit.field, " ", limit.value,
                              " is more than the limit of ", limit.max, limit.unit));
  }
  if (config.version_policy().has_specific()) {
    const VersionPolicy::Specific& specific = config.version_policy().specific();
    const TextFormat::ParseInfoTree* policy_tree =
        tree.GetTreeForNested(ModelConfig::descriptor()->FindFieldByName("version_policy"), -1);
    const TextFormat::ParseInfoTree* specific_tree =
        policy_tree == nullptr ? nullptr
                               : policy_tree->GetTreeForNested(
                                     VersionPolicy::descriptor()->FindFieldByName("specific"), -1);
    if (specific.versions().empty()) {
      return error(At(policy_tree, config.version_policy(), "specific"),
                   "version_policy specific lists no versions (e.g. specific { versions: 1 })");
    }
    std::set<int64_t> seen;
    for (int i = 0; i < specific.versions_size(); ++i) {
      const int64_t v = specific.versions(i);
      if (v <= 0) {
        return error(At(specific_tree, specific, "versions", i),
                     absl::StrCat("version ", v, " is not a positive integer"));
      }
      if (!seen.insert(v).second) {
        return error(At(specific_tree, specific, "versions", i),
                     absl::StrCat("version ", v, " is listed twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& text, const std::string& path,
                                             const std::string& model) {
  ModelConfig config;
  TextFormat::Parser parser;  // unknown fields are errors: a typo must not be ignored
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  TextFormat::ParseInfoTree tree;
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", errors.text()));
  }
  if (absl::Status s = Validate(config, tree, path, model); !s.ok()) return s;
  config.set_name(model);
  return config;
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& model_dir,
                                            const std::string& model) {
  const fs::path path = fs::path(model_dir) / kModelConfigFileName;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    ModelConfig defaults;
    defaults.set_name(model);
    return defaults;
  }
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseModelConfig(text.str(), path.string(), model);
}

std::string SignatureFileOf(const ModelConfig& config) {
  return config.signature_file().empty() ? std::string(kSignatureFileName)
                                         : config.signature_file();
}

VersionSelection SelectVersions(const VersionPolicy& policy, std::vector<int64_t> on_disk) {
  std::sort(on_disk.begin(), on_disk.end(), std::greater<>());
  on_disk.erase(std::unique(on_disk.begin(), on_disk.end()), on_disk.end());
  VersionSelection selection;
  switch (policy.policy_choice_case()) {
    case VersionPolicy::kSpecific: {
      const std::set<int64_t> named(policy.specific().versions().begin(),
                                    policy.specific().versions().end());
      for (int64_t v : on_disk) {
        if (named.count(v)) selection.candidates.push_back(v);
      }
      selection.wanted = selection.candidates.size();
      return selection;
    }
    case VersionPolicy::kAll:
      selection.candidates = std::move(on_disk);
      selection.wanted = selection.candidates.size();
      return selection;
    case VersionPolicy::kLatest:
    case VersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  const uint32_t n = policy.has_latest() ? policy.latest().num_versions() : 1;
  selection.candidates = std::move(on_disk);
  selection.wanted = std::max<uint32_t>(n, 1);
  return selection;
}

std::string DescribeVersionPolicy(const VersionPolicy& policy) {
  switch (policy.policy_choice_case()) {
    case VersionPolicy::kSpecific:
      return absl::StrCat("specific [", absl::StrJoin(policy.specific().versions(), ", "), "]");
    case VersionPolicy::kAll:
      return "all";
    case VersionPolicy::kLatest:
      return absl::StrCat("latest ", std::max<uint32_t>(policy.latest().num_versions(), 1));
    case VersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  return "latest 1";
}

}  // namespace q8::server
