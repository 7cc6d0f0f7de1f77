// config.pbtxt: parsing, validation with file and line in every error, and the version
// policy's choice of versions.
#include "server/repository/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

TEST(ModelConfigTest, ParsesEveryField) {
  absl::StatusOr<q8serve::v1::ModelConfig> config =
      ParseModelConfig(R"pb(
                         name: "digits"
                         model_file: "digits.onnx"
                         signature_file: "names.pbtxt"
                         version_policy { latest { num_versions: 2 } }
                         batching { max_batch_size: 16 max_queue_delay_us: 500 max_queue_size: 256 }
                         instances { workers: 2 threads_per_run: 1 }
                       )pb",
                       "digits/config.pbtxt", "digits");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->model_file(), "digits.onnx");
  EXPECT_EQ(SignatureFileOf(*config), "names.pbtxt");
  EXPECT_EQ(DescribeVersionPolicy(config->version_policy()), "latest 2");
  EXPECT_EQ(config->batching().max_batch_size(), 16u);
  EXPECT_EQ(config->instances().threads_per_run(), 1u);
}

TEST(ModelConfigTest, EmptyTextMeansDefaultsAndTheDirectoryName) {
  absl::StatusOr<q8serve::v1::ModelConfig> config = ParseModelConfig("", "m/config.pbtxt", "m");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "m");
  EXPECT_EQ(SignatureFileOf(*config), "signatures.pbtxt");
  EXPECT_EQ(DescribeVersionPolicy(config->version_policy()), "latest 1");
}

TEST(ModelConfigTest, UnknownFieldNamesTheFileAndLine) {
  absl::StatusOr<q8serve::v1::ModelConfig> config = ParseModelConfig(
      "version_policy { all {} }\nbatchin { max_batch_size: 4 }\n", "/r/m/config.pbtxt", "m");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              AllOf(HasSubstr("/r/m/config.pbtxt: line 2"), HasSubstr("batchin")));
}

TEST(ModelConfigTest, SyntaxErrorNamesTheFileAndLine) {
  absl::StatusOr<q8serve::v1::ModelConfig> config = ParseModelConfig(
      "name: \"m\"\n\nversion_policy { latest { num_versions: two } }\n", "m/config.pbtxt", "m");
  EXPECT_THAT(config.status().message(),
              AllOf(HasSubstr("m/config.pbtxt: line 3, column"), HasSubstr("two")));
}

TEST(ModelConfigTest, NameMustMatchTheDirectory) {
  absl::StatusOr<q8serve::v1::ModelConfig> config =
      ParseModelConfig("\nname: \"resnet\"\n", "digits/config.pbtxt", "digits");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              AllOf(HasSubstr("digits/config.pbtxt: line 2, column 1"), HasSubstr("\"resnet\""),
                    HasSubstr("model directory 'digits'")));
}

TEST(ModelConfigTest, FormatIsOneTheEngineKnows) {
  absl::StatusOr<q8serve::v1::ModelConfig> ok =
      ParseModelConfig("format: \"tflite\"\n", "m/config.pbtxt", "m");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->format(), "tflite");
  absl::StatusOr<q8serve::v1::ModelConfig> bad =
      ParseModelConfig("\nformat: \"caffe\"\n", "m/config.pbtxt", "m");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              AllOf(HasSubstr("m/config.pbtxt: line 2, column 1"), HasSubstr("\"caffe\""),
                    HasSubstr("onnx, tflite, graphdef")));
}

TEST(ModelConfigTest, FileNamesCannotLeaveTheModelDirectory) {
  for (const char* text : {"model_file: \"../other/model.onnx\"", "signature_file: \"..\"",
                           "model_file: \"1/model.onnx\""}) {
    absl::StatusOr<q8serve::v1::ModelConfig> config = ParseModelConfig(text, "m/config.pbtxt", "m");
    EXPECT_THAT(config.status().message(),
                AllOf(HasSubstr("m/config.pbtxt: line 1"), HasSubstr("plain file name")))
        << text;
  }
}

TEST(ModelConfigTest, SpecificVersionsMustBePositiveAndDistinct) {
  EXPECT_THAT(ParseModelConfig("version_policy { specific {} }", "c", "m").status().message(),
              HasSubstr("lists no versions"));
  EXPECT_THAT(
      ParseModelConfig("version_policy {\n  specific { versions: 1 versions: 0 }\n}", "c", "m")
          .status()
          .message(),
      AllOf(HasSubstr("c: line 2"), HasSubstr("version 0 is not a positive integer")));
  EXPECT_THAT(ParseModelConfig("version_policy { specific { versions: [2, 2] } }", "c", "m")
                  .status()
                  .message(),
              HasSubstr("version 2 is listed twice"));
}

TEST(ModelConfigTest, QueueSettingsHaveUpperBounds) {
  absl::StatusOr<q8serve::v1::ModelConfig> delay =
      ParseModelConfig("batching {\n  max_batch_size: 8\n  max_queue_delay_us: 50000000\n}\n",
                       "m/config.pbtxt", "m");
  EXPECT_EQ(delay.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(delay.status().message(),
              AllOf(HasSubstr("m/config.pbtxt: line 3"),
                    HasSubstr("batching.max_queue_delay_us 50000000 is more than the limit")));
  EXPECT_THAT(ParseModelConfig("instances { workers: 5000 }", "c", "m").status().message(),
              HasSubstr("instances.workers 5000 is more than the limit of 1024"));
  EXPECT_THAT(ParseModelConfig("batching { max_batch_size: 100000 }", "c", "m").status().message(),
              HasSubstr("batching.max_batch_size 100000"));
  EXPECT_TRUE(
      ParseModelConfig("batching { max_batch_size: 65536 max_queue_delay_us: 10000000 }", "c", "m")
          .ok());
}

TEST(ModelConfigTest, ReadModelConfigDefaultsWhenAbsent) {
  TempDir dir;
  absl::StatusOr<q8serve::v1::ModelConfig> config = ReadModelConfig(dir.path(), "m");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "m");
  dir.Write("config.pbtxt", "nme: \"m\"");
  EXPECT_THAT(ReadModelConfig(dir.path(), "m").status().message(),
              AllOf(HasSubstr(dir.path() + "/config.pbtxt: line 1"), HasSubstr("nme")));
}

q8serve::v1::VersionPolicy Policy(const std::string& text) {
  absl::StatusOr<q8serve::v1::ModelConfig> config =
      ParseModelConfig("version_policy { " + text + " }", "c", "m");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? config->version_policy() : q8serve::v1::VersionPolicy();
}

TEST(ModelConfigTest, VersionPolicyChoosesNewestFirst) {
  const std::vector<int64_t> disk = {1, 3, 2, 10};
  VersionSelection unset = SelectVersions(q8serve::v1::VersionPolicy(), disk);
  EXPECT_THAT(unset.candidates, ElementsAre(10, 3, 2, 1));
  EXPECT_EQ(unset.wanted, 1u) << "TF Serving's default: latest 1";

  VersionSelection latest2 = SelectVersions(Policy("latest { num_versions: 2 }"), disk);
  EXPECT_THAT(latest2.candidates, ElementsAre(10, 3, 2, 1));
  EXPECT_EQ(latest2.wanted, 2u);
  EXPECT_EQ(SelectVersions(Policy("latest {}"), disk).wanted, 1u) << "0 reads as 1";

  VersionSelection specific = SelectVersions(Policy("specific { versions: [1, 3, 7] }"), disk);
  EXPECT_THAT(specific.candidates, ElementsAre(3, 1)) << "7 is not on disk";
  EXPECT_EQ(specific.wanted, 2u);
  EXPECT_EQ(DescribeVersionPolicy(Policy("specific { versions: [1, 3, 7] }")),
            "specific [1, 3, 7]");

  VersionSelection all = SelectVersions(Policy("all {}"), disk);
  EXPECT_THAT(all.candidates, ElementsAre(10, 3, 2, 1));
  EXPECT_EQ(all.wanted, 4u);
}

}  // namespace
}  // namespace q8::server
