#include "server/api/kserve_tensor_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace q8::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using InferInput = inference::ModelInferRequest::InferInputTensor;

InferInput MakeInput(const std::string& datatype, std::vector<int64_t> shape) {
  InferInput input;
  input.set_name("images");
  input.set_datatype(datatype);
  for (int64_t d : shape) input.add_shape(d);
  return input;
}

TEST(KServeTensorCodecTest, RawAndTypedContentsDecodeTheSame) {
  const std::vector<float> values = {0.5f, 1.5f, -3.0f, 4.0f};
  const std::string raw(reinterpret_cast<const char*>(values.data()), 16);
  InferInput typed = MakeInput("FP32", {2, 2});
  for (float v : values) typed.mutable_contents()->add_fp32_contents(v);

  absl::StatusOr<engine::Tensor> a = DecodeInferInput(MakeInput("FP32", {2, 2}), &raw);
  absl::StatusOr<engine::Tensor> b = DecodeInferInput(typed, nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(std::memcmp(a->data(), b->data(), 16), 0);
  EXPECT_THAT(a->shape(), ElementsAre(2, 2));
}

TEST(KServeTensorCodecTest, RawSizeMismatchNamesInputAndExpectedBytes) {
  const std::string raw(10, '\0');
  absl::StatusOr<engine::Tensor> t = DecodeInferInput(MakeInput("FP32", {1, 64}), &raw);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("Input 'images' (FP32, shape [1,64])"));
  EXPECT_THAT(t.status().message(),
              HasSubstr("raw_input_contents has 10 bytes; expected 256 (64 elements of 4 bytes)"));
}

TEST(KServeTensorCodecTest, TypedContentsNeedOneValuePerElement) {
  InferInput input = MakeInput("FP32", {1, 4});
  input.mutable_contents()->add_fp32_contents(1);  // KServe has no broadcast
  absl::StatusOr<engine::Tensor> t = DecodeInferInput(input, nullptr);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("contents.fp32_contents has 1 values; expected 4"));
}

TEST(KServeTensorCodecTest, RawAndTypedTogetherIsAnError) {
  InferInput input = MakeInput("FP32", {1});
  input.mutable_contents()->add_fp32_contents(1);
  const std::string raw(4, '\0');
  EXPECT_THAT(DecodeInferInput(input, &raw).status().message(), HasSubstr("send one"));
}

TEST(KServeTensorCodecTest, IntegerContentsAreRangeChecked) {
  InferInput u8 = MakeInput("UINT8", {2});
  u8.mutable_contents()->add_uint_contents(255);
  u8.mutable_contents()->add_uint_contents(256);
  EXPECT_THAT(DecodeInferInput(u8, nullptr).status().message(),
              HasSubstr("uint_contents[1] = 256 is out of range"));

  InferInput s8 = MakeInput("INT8", {2});
  s8.mutable_contents()->add_int_contents(-128);
  s8.mutable_contents()->add_int_contents(127);
  absl::StatusOr<engine::Tensor> ok = DecodeInferInput(s8, nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->data_as<int8_t>()[0], -128);
  EXPECT_EQ(ok->data_as<int8_t>()[1], 127);
}

TEST(KServeTensorCodecTest, DatatypeNames) {
  for (auto [name, dtype] :
       std::vector<std::pair<std::string, engine::DType>>{{"FP32", engine::DType::kFloat32},
                                                          {"UINT8", engine::DType::kUint8},
                                                          {"INT8", engine::DType::kInt8},
                                                          {"INT32", engine::DType::kInt32},
                                                          {"INT64", engine::DType::kInt64},
                                                          {"BOOL", engine::DType::kBool}}) {
    absl::StatusOr<engine::DType> got = DTypeFromKServe(name, "x");
    ASSERT_TRUE(got.ok()) << name;
    EXPECT_EQ(*got, dtype);
    EXPECT_EQ(DTypeToKServe(dtype), name);
  }
  absl::StatusOr<engine::DType> fp16 = DTypeFromKServe("FP16", "Input 'x'");
  EXPECT_EQ(fp16.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fp16.status().message(), HasSubstr("unsupported datatype 'FP16'"));
  EXPECT_THAT(fp16.status().message(), HasSubstr("FP32"));
}

TEST(KServeTensorCodecTest, EncodeWritesRawOutput) {
  engine::Tensor t(engine::DType::kFloat32, {1, 2});
  t.data_as<float>()[0] = 3;
  t.data_as<float>()[1] = -1;
  inference::ModelInferResponse::InferOutputTensor out;
  std::string raw;
  ASSERT_TRUE(EncodeInferOutput("logits", t, &out, &raw).ok());
  EXPECT_EQ(out.name(), "logits");
  EXPECT_EQ(out.datatype(), "FP32");
  EXPECT_THAT(out.shape(), ElementsAre(1, 2));
  ASSERT_EQ(raw.size(), 8u);
  EXPECT_EQ(std::memcmp(raw.data(), t.data(), 8), 0);
}

}  // namespace
}  // namespace q8::server
