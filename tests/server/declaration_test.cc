#include "server/signature/declaration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/signature/reference_alignment.h"
#include "tests/common/test_env.h"

namespace q8::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(SignatureFileTest, ParsesSignaturesTensorsDtypesAndShapes) {
  auto d = ParseSignatureFile(R"pb(
    signatures {
      name: "serving_default"
      inputs { name: "images" dtype: "float32" shape: [-1, 64] }
      outputs { name: "logits" tensor: "logits_QuantizeLinear_Output" }
    }
    signatures {
      name: "features"
      inputs { name: "images" }
      outputs { name: "hidden" tensor: "/fc2/Relu_output_0" }
    }
    default_signature: "features"
    reference_model: "model_float.onnx"
  )pb", "signatures.pbtxt");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->signatures.size(), 2u);
  EXPECT_EQ(d->default_signature, "features");
  EXPECT_EQ(d->reference_model, "model_float.onnx");
  const DeclaredTensor& images = d->signatures[0].inputs[0];
  EXPECT_EQ(images.logical_name, "images");
  EXPECT_EQ(images.dtype, engine::DType::kFloat32);
  EXPECT_EQ(images.shape, (engine::Shape{-1, 64}));
  EXPECT_TRUE(images.tensor.empty());
  EXPECT_EQ(d->signatures[0].outputs[0].tensor, "logits_QuantizeLinear_Output");
  EXPECT_FALSE(d->signatures[1].inputs[0].dtype.has_value());
}

TEST(SignatureFileTest, OneUnnamedSignatureIsTheDefault) {
  auto d = ParseSignatureFile(R"pb(signatures { inputs { name: "x" } outputs { name: "y" } })pb", "f");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->default_signature, "serving_default");
}

TEST(SignatureFileTest, SyntaxErrorsNameTheFileLineAndColumn) {
  auto d = ParseSignatureFile("signatures {\n  name: \"a\"\n  inputz { name: \"x\" }\n}\n", "m/signatures.pbtxt");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(), AllOf(HasSubstr("m/signatures.pbtxt"), HasSubstr("line 3"),
                                          HasSubstr("inputz")));
}

TEST(SignatureFileTest, RejectsWhatCannotBeServed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"pb(signatures { inputs { name: "x" dtype: "float64" } outputs { name: "y" } })pb",
       "unknown dtype 'float64'"},
      {R"pb(signatures { inputs { name: "x" } inputs { name: "x" } outputs { name: "y" } })pb",
       "'x' is declared twice"},
      {R"pb(signatures { inputs { name: "x" shape: [0, 3] } outputs { name: "y" } })pb",
       "has dim 0"},
      {R"pb(signatures { inputs { name: "x" } })pb", "outputs is empty"},
      {R"pb(signatures { name: "a" inputs { name: "x" } outputs { name: "y" } }
            default_signature: "b")pb",
       "default signature 'b' is not declared"},
      {"", "declares no signatures"},
  };
  for (const auto& [text, message] : cases) {
    auto d = ParseSignatureFile(text, "sig.pbtxt");
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(d.status().message(), HasSubstr(message)) << text;
  }
}

TEST(ReferenceAlignmentTest, DigitsFloatModelAlignsWithItsInt8Version) {
  auto ref = engine::DescribeModelFile(
      q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/examples/digits/model_float.onnx"));
  ASSERT_TRUE(ref.ok()) << ref.status();
  auto quant = engine::DescribeModelFile(
      q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/models/digits/1/model.onnx"));
  ASSERT_TRUE(quant.ok()) << quant.status();
  auto a = AlignWithReference(*ref, *quant);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->inputs.at("images"), 0);
  EXPECT_EQ(a->outputs.at("logits"), 0);
  EXPECT_THAT(a->evidence, HasSubstr("[MatMul,MatMul,MatMul]"));
}

TEST(ReferenceAlignmentTest, DifferentModelsDoNotAlign) {
  auto ref = engine::DescribeModelFile(
      q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/examples/digits/model_float.onnx"));
  auto other = engine::DescribeModelFile(
      q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qdq.onnx"));
  ASSERT_TRUE(ref.ok() && other.ok());
  auto a = AlignWithReference(*ref, *other);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(a.status().message(),
              AllOf(HasSubstr("does not align"), HasSubstr("input #0 differs"),
                    HasSubstr("[?,64]"), HasSubstr("[?,784]")));
}

}  // namespace
}  // namespace q8::server
