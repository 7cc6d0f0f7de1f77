#include "server/repository/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "prometheus/text_serializer.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using testing::DigitsModel;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::TempDir;

std::string MetricsText(Metrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry().Collect());
}

TEST(ModelRepositoryTest, ScanFindsNumericVersionsOnly) {
  TempDir dir;
  dir.Mkdir("m/1");
  dir.Mkdir("m/10");
  dir.Mkdir("m/2");
  dir.Mkdir("m/0");       // not positive
  dir.Mkdir("m/latest");  // not a number
  dir.Mkdir("m/+3");      // sign not allowed
  dir.Mkdir("m/.hidden");
  dir.Write("README", "not a model");
  absl::StatusOr<std::vector<ModelVersionPath>> found = ScanRepository(dir.path());
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[0].version, 1);
  EXPECT_EQ((*found)[1].version, 2);
  EXPECT_EQ((*found)[2].version, 10);
  EXPECT_EQ((*found)[2].path, dir.path() + "/m/10/model.onnx");
}

TEST(ModelRepositoryTest, MissingRootIsNotFound) {
  absl::StatusOr<std::vector<ModelVersionPath>> found = ScanRepository("/nonexistent/q8serve");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(found.status().message(), HasSubstr("/nonexistent/q8serve"));
}

TEST(ModelRepositoryTest, NothingLoadableFailsNamingEveryFailure) {
  TempDir dir;
  dir.Write("broken/1/model.onnx", "this is not protobuf");
  dir.Mkdir("empty/3");  // no model.onnx
  Metrics metrics;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create({.root = dir.path(), .load = {}}, &metrics);
  ASSERT_EQ(repo.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(repo.status().message(), HasSubstr("no model could be loaded"));
  EXPECT_THAT(repo.status().message(), HasSubstr("broken/1/model.onnx"));
  EXPECT_THAT(repo.status().message(), HasSubstr("empty/3/model.onnx"));
  EXPECT_THAT(MetricsText(metrics),
              HasSubstr("q8serve_model_load_failures_total{model=\"broken\",version=\"1\"} 1"));
}

TEST(ModelRepositoryTest, AFailedVersionIsRecordedButNeverServes) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Write("digits/2/model.onnx", "garbage");  // newer but broken
  Metrics metrics;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create({.root = dir.path(), .load = {}}, &metrics);
  ASSERT_TRUE(repo.ok()) << repo.status();
  std::shared_ptr<const ServingMap> map = (*repo)->Snapshot();

  // Latest serving version is 1: the broken 2 does not replace it.
  absl::StatusOr<std::shared_ptr<const Servable>> latest = map->Find("digits", std::nullopt);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ((*latest)->version, 1);
  ASSERT_NE((*latest)->FindSignature(""), nullptr);

  const ModelEntry* entry = map->FindModel("digits");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->versions.at(2).state, VersionState::kFailed);
  EXPECT_FALSE(entry->versions.at(2).error.ok());
  EXPECT_EQ(entry->versions.at(1).state, VersionState::kAvailable);

  absl::StatusOr<std::shared_ptr<const Servable>> v2 = map->Find("digits", 2);
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(v2.status().message(), HasSubstr("failed to load"));
  EXPECT_THAT(v2.status().message(), HasSubstr("Available versions: {1}"));

  const std::string text = MetricsText(metrics);
  EXPECT_THAT(text,
              HasSubstr("q8serve_model_state{model=\"digits\",state=\"failed\",version=\"2\"} 1"));
  EXPECT_THAT(
      text, HasSubstr("q8serve_model_state{model=\"digits\",state=\"available\",version=\"1\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_model_state{model=\"digits\",state=\"loading\",version=\"1\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_model_load_duration_seconds{model=\"digits\",version=\"1\"}"));
}

// config.pbtxt's format: only that format's file names are probed, and a file of another
// format fails its version's load saying both.
TEST(ModelRepositoryTest, TheConfigsFormatPicksAndChecksTheFile) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Write("digits/config.pbtxt", "format: \"onnx\"\n");
  dir.Copy(DigitsModel(), "probed/1/model.onnx");
  dir.Write("probed/config.pbtxt", "format: \"tflite\"\n");  // looks for model.tflite only
  dir.Copy(DigitsModel(), "named/1/model.onnx");
  dir.Write("named/config.pbtxt", "model_file: \"model.onnx\" format: \"graphdef\"\n");
  Metrics metrics;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create({.root = dir.path(), .load = {}}, &metrics);
  ASSERT_TRUE(repo.ok()) << repo.status();
  std::shared_ptr<const ServingMap> map = (*repo)->Snapshot();
  EXPECT_TRUE(map->Find("digits", std::nullopt).ok());

  const ModelEntry* probed = map->FindModel("probed");
  ASSERT_NE(probed, nullptr);
  EXPECT_EQ(probed->versions.at(1).state, VersionState::kFailed);
  EXPECT_THAT(probed->versions.at(1).error.message(), HasSubstr("probed/1/model.tflite"));

  const ModelEntry* named = map->FindModel("named");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->versions.at(1).state, VersionState::kFailed);
  EXPECT_THAT(named->versions.at(1).error.message(),
              AllOf(HasSubstr("named/1/model.onnx"),
                    HasSubstr("config.pbtxt says format: \"graphdef\", but the file is a onnx "
                              "model")));
}

TEST(ModelRepositoryTest, DefaultSignatureBindsGraphNames) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create({.root = dir.path(), .load = {}}, nullptr);
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto servable = (*repo)->Snapshot()->Find("digits", 1);
  ASSERT_TRUE(servable.ok());
  const Signature* sig = (*servable)->FindSignature("serving_default");
  ASSERT_NE(sig, nullptr);
  ASSERT_EQ(sig->inputs.size(), 1u);
  EXPECT_EQ(sig->inputs[0].logical_name, "images");
  EXPECT_EQ(sig->inputs[0].rule, "graph_input");
  EXPECT_EQ(sig->inputs[0].explanation, "graph input #0 of model.onnx under its own name");
  EXPECT_EQ(sig->inputs[0].source, "graph");
  EXPECT_EQ(sig->inputs[0].info.dtype, engine::DType::kFloat32);
  EXPECT_EQ(engine::ShapeToString(sig->inputs[0].info.shape), "[?,64]");
  ASSERT_EQ(sig->outputs.size(), 1u);
  EXPECT_EQ(sig->outputs[0].logical_name, "logits");
  EXPECT_EQ(sig->outputs[0].rule, "graph_output");
  EXPECT_EQ(sig->InputNames(), "{images}");
}

}  // namespace
}  // namespace q8::server
