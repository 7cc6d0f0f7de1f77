// Signatures as a repository builds them, on real files: a float version 1 whose names
// carry over to renamed int8 versions, a signature file, a reference model, and
// failures that keep the previous version serving.
#include "server/signature/signature_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/repository/model_repository.h"
#include "tests/common/test_env.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::TempDir;

std::string Fixture(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SourceDir() + "/tests/fixtures/signature/" + name);
}
std::string FloatDigits() {
  return q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/examples/digits/model_float.onnx");
}

std::shared_ptr<const Servable> Load(const TempDir& dir, int64_t version) {
  auto repo = ModelRepository::Create({.root = dir.path(), .load = {}}, nullptr);
  EXPECT_TRUE(repo.ok()) << repo.status();
  if (!repo.ok()) return nullptr;
  auto servable = (*repo)->Snapshot()->Find("digits", version);
  EXPECT_TRUE(servable.ok()) << servable.status();
  return servable.ok() ? *servable : nullptr;
}

TEST(SignatureBuilderTest, FloatVersionNamesCarryOverToARenamedInt8Version) {
  TempDir dir;
  dir.Copy(FloatDigits(), "digits/1/model.onnx");
  dir.Copy(Fixture("digits_uint8_io.onnx"), "digits/2/model.onnx");
  auto v2 = Load(dir, 2);
  ASSERT_NE(v2, nullptr);
  const Signature* sig = v2->FindSignature("");
  ASSERT_NE(sig, nullptr);
  const SignatureTensor* images = sig->FindInput("images");
  ASSERT_NE(images, nullptr);
  EXPECT_EQ(images->info.name, "images_QuantizeLinear_Output");
  EXPECT_EQ(images->rule, "normalized");
  EXPECT_EQ(images->conversion, Conversion::kQuantize);
  EXPECT_EQ(images->dtype, engine::DType::kFloat32);
  EXPECT_EQ(images->source, "version 1");
  const SignatureTensor* logits = sig->FindOutput("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->info.name, "logits_QuantizeLinear_Output");
  EXPECT_EQ(logits->conversion, Conversion::kDequantize);
}

TEST(SignatureBuilderTest, TfliteStyleNamesResolveThroughTheChain) {
  TempDir dir;
  dir.Copy(FloatDigits(), "digits/1/model.onnx");
  dir.Copy(Fixture("digits_tflite_style.onnx"), "digits/2/model.onnx");
  auto v2 = Load(dir, 2);
  ASSERT_NE(v2, nullptr);
  const Signature* sig = v2->FindSignature("");
  EXPECT_EQ(sig->FindInput("images")->info.name, "serving_default_images:0");
  EXPECT_EQ(sig->FindInput("images")->rule, "normalized");
  EXPECT_EQ(sig->FindOutput("logits")->info.name, "StatefulPartitionedCall:0");
  EXPECT_EQ(sig->FindOutput("logits")->rule, "unique_role");
}

TEST(SignatureBuilderTest, ReferenceModelBesideTheVersionNamesAQOperatorGraph) {
  TempDir dir;  // no version 1: the names can only come from the reference model
  dir.Copy(Fixture("digits_qoperator.onnx"), "digits/3/model.onnx");
  dir.Copy(FloatDigits(), "digits/3/model_float.onnx");
  auto v3 = Load(dir, 3);
  ASSERT_NE(v3, nullptr);
  const SignatureTensor* logits = v3->FindSignature("")->FindOutput("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->source, "reference model model_float.onnx");
  EXPECT_THAT(logits->explanation, HasSubstr("model_float.onnx"));
}

TEST(SignatureBuilderTest, SignatureFileDeclaresNamesAndADefault) {
  TempDir dir;
  dir.Copy(Fixture("digits_tflite_style.onnx"), "digits/1/model.onnx");
  dir.Write("digits/signatures.pbtxt", R"pb(
    signatures {
      name: "classify"
      inputs { name: "pixels" tensor: "serving_default_images:0" dtype: "float32" shape: [-1, 64] }
      outputs { name: "scores" }
    }
  )pb");
  auto v1 = Load(dir, 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->default_signature, "classify");
  const Signature* sig = v1->FindSignature("");
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(sig->name, "classify");
  EXPECT_EQ(sig->FindInput("pixels")->rule, "explicit");
  EXPECT_EQ(sig->FindInput("pixels")->source, "signatures.pbtxt");
  EXPECT_EQ(sig->FindOutput("scores")->info.name, "StatefulPartitionedCall:0");
}

TEST(SignatureBuilderTest, UnresolvableVersionFailsAndTheOldOneKeepsServing) {
  TempDir dir;
  dir.Copy(FloatDigits(), "digits/1/model.onnx");
  // A model with other inputs: v1's 'images' [?,64] fits none of them.
  dir.Copy(q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qdq.onnx"),
           "digits/2/model.onnx");
  auto repo = ModelRepository::Create({.root = dir.path(), .load = {}}, nullptr);
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto map = (*repo)->Snapshot();
  auto latest = map->Find("digits", std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->version, 1) << "the failed version never replaces the serving one";
  const ModelEntry* entry = map->FindModel("digits");
  ASSERT_NE(entry, nullptr);
  const VersionStatus& v2 = entry->versions.at(2);
  EXPECT_EQ(v2.state, VersionState::kFailed);
  EXPECT_THAT(v2.error.message(), AllOf(HasSubstr("input 'images' float32 [?,64]"),
                                        HasSubstr("version 1"), HasSubstr("'input' float32 [?,784]")));
}

TEST(SignatureBuilderTest, BrokenSignatureFileFailsTheLoadNamingTheLine) {
  TempDir dir;
  dir.Copy(FloatDigits(), "digits/1/model.onnx");
  dir.Write("digits/signatures.pbtxt", "signatures {\n  inputs { nam: \"x\" }\n}\n");
  auto repo = ModelRepository::Create({.root = dir.path(), .load = {}}, nullptr);
  EXPECT_EQ(repo.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(repo.status().message(), AllOf(HasSubstr("signatures.pbtxt"), HasSubstr("line 2")));
}

}  // namespace
}  // namespace q8::server
