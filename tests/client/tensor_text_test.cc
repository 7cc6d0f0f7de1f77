#include "client/tensor_text.h"

#include "gtest/gtest.h"

namespace q8::client {
namespace {

google::protobuf::RepeatedField<int64_t> Shape(std::initializer_list<int64_t> dims) {
  return google::protobuf::RepeatedField<int64_t>(dims.begin(), dims.end());
}

TEST(FormatShapeTest, DynamicDimensionsAreQuestionMarks) {
  EXPECT_EQ(FormatShape(Shape({-1, 64})), "[?,64]");
  EXPECT_EQ(FormatShape(Shape({1, 28, 28})), "[1,28,28]");
  EXPECT_EQ(FormatShape(Shape({})), "[]");
}

TEST(FormatScaleTest, FourSignificantDigits) {
  EXPECT_EQ(FormatScale(1.0f / 255), "0.003922");
  EXPECT_EQ(FormatScale(0.5f), "0.5");
  EXPECT_EQ(FormatScale(1.5e-5f), "1.5e-05");
}

TEST(FormatQuantTest, PerTensor) {
  q8serve::v1::QuantParams q;
  q.add_scales(1.0f / 255);
  q.add_zero_points(0);
  q.set_storage_dtype("uint8");
  EXPECT_EQ(FormatQuant(q), "uint8 s=0.003922 z=0");
  EXPECT_EQ(FormatQuantParams(q), "s=0.003922 z=0");
}

TEST(FormatQuantTest, PerChannelCountsScales) {
  q8serve::v1::QuantParams q;
  for (int i = 0; i < 64; ++i) {
    q.add_scales(0.01f * (i + 1));
    q.add_zero_points(0);
  }
  q.set_per_channel(true);
  q.set_axis(0);
  q.set_storage_dtype("int8");
  EXPECT_EQ(FormatQuant(q), "int8 per-axis(0) ×64");
}

TEST(FormatQuantTest, MissingPiecesStayReadable) {
  q8serve::v1::QuantParams q;
  q.add_scales(0.25f);  // No zero point: the affine default 0.
  EXPECT_EQ(FormatQuant(q), "s=0.25 z=0");
  EXPECT_EQ(FormatQuant(q8serve::v1::QuantParams()), "s=? z=0");
}

}  // namespace
}  // namespace q8::client
