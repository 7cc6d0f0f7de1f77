// QuantizeTensor / DequantizeTensor (engine.h): the boundary conversions, per-tensor and
// per-axis, checked against hand-computed values, and every way a caller can misuse them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "engine/engine.h"

namespace q8::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

QuantParams PerTensor(float scale, int64_t zp, DType storage) {
  return QuantParams{{scale}, {zp}, std::nullopt, storage};
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.num_elements());
}

template <typename T>
TensorView View(const std::vector<T>& v, DType dtype, Shape shape) {
  return TensorView{dtype, std::move(shape), v.data()};
}

TEST(QuantizeTensorTest, PerTensorUint8RoundsHalfToEvenAndSaturates) {
  // q = saturate(round_half_even(x / 0.5) + 10)
  const std::vector<float> x = {-5.f, -6.f, 0.f, 0.25f, 0.75f, 1.f, 200.f};
  auto q = QuantizeTensor(View(x, DType::kFloat32, {7}), PerTensor(0.5f, 10, DType::kUint8));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->dtype(), DType::kUint8);
  EXPECT_EQ(q->shape(), (Shape{7}));
  //               -10+10  -12+10→0  0+10  0.5→0  1.5→2  2+10   400+10→255
  EXPECT_THAT(Values<uint8_t>(*q), ElementsAre(0, 0, 10, 10, 12, 12, 255));

  auto back = DequantizeTensor(TensorView{q->dtype(), q->shape(), q->data()},
                               PerTensor(0.5f, 10, DType::kUint8));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dtype(), DType::kFloat32);
  EXPECT_THAT(Values<float>(*back), ElementsAre(-5.f, -5.f, 0.f, 0.f, 1.f, 1.f, 122.5f));
}

TEST(QuantizeTensorTest, RoundTripIsWithinHalfAStepInsideTheRange) {
  const float scale = 0.0390625f;  // 10 / 256
  const QuantParams q = PerTensor(scale, -3, DType::kInt8);
  std::vector<float> x;
  for (int i = -480; i <= 480; ++i) x.push_back(static_cast<float>(i) * 0.01f);
  auto quantized = QuantizeTensor(View(x, DType::kFloat32, {3, 321}), q);
  ASSERT_TRUE(quantized.ok()) << quantized.status();
  auto back =
      DequantizeTensor(TensorView{quantized->dtype(), quantized->shape(), quantized->data()}, q);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->shape(), (Shape{3, 321}));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::abs(back->data_as<float>()[i] - x[i]), scale / 2 + 1e-6f) << x[i];
  }
}

TEST(QuantizeTensorTest, PerAxisUsesEachChannelsParameters) {
  // [2, 3] along axis 1: column c uses scales[c], zero_points[c].
  const std::vector<float> x = {1.f, 1.f, 3.f, -2.f, 4.f, 8.f};
  QuantParams q{{0.5f, 0.25f, 2.f}, {0, -5, 5}, 1, DType::kInt8};
  auto out = QuantizeTensor(View(x, DType::kFloat32, {2, 3}), q);
  ASSERT_TRUE(out.ok()) << out.status();
  // 3 / 2 = 1.5 rounds to 2 (half to even): 2 + 5 = 7.
  EXPECT_THAT(Values<int8_t>(*out), ElementsAre(2, -1, 7, -4, 11, 9));
  // A negative axis counts from the end.
  q.axis = -1;
  auto same = QuantizeTensor(View(x, DType::kFloat32, {2, 3}), q);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(Values<int8_t>(*same), Values<int8_t>(*out));

  auto back = DequantizeTensor(TensorView{out->dtype(), out->shape(), out->data()}, q);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_THAT(Values<float>(*back), ElementsAre(1.f, 1.f, 4.f, -2.f, 4.f, 8.f));
}

TEST(QuantizeTensorTest, PerAxisWithInnerDims) {
  // [2, 2, 2] along axis 1: elements (o, c, i) use channel c.
  const std::vector<float> x(8, 1.f);
  const QuantParams q{{1.f, 0.5f}, {0, 100}, 1, DType::kUint8};
  auto out = QuantizeTensor(View(x, DType::kFloat32, {2, 2, 2}), q);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values<uint8_t>(*out), ElementsAre(1, 1, 102, 102, 1, 1, 102, 102));
}

TEST(DequantizeTensorTest, Int32PerAxisLikeABias) {
  const std::vector<int32_t> bq = {100, -100, 7};
  const QuantParams q{{0.01f, 0.02f, 0.5f}, {0, 0, 1}, 0, DType::kInt32};
  auto out = DequantizeTensor(View(bq, DType::kInt32, {3}), q);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values<float>(*out), ElementsAre(1.f, -2.f, 3.f));
}

TEST(DequantizeTensorTest, UnknownStorageTakesTheTensorsType) {
  const std::vector<int8_t> v = {-128, 0, 127};
  auto out = DequantizeTensor(View(v, DType::kInt8, {3}), PerTensor(1.f, 0, DType::kUnknown));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values<float>(*out), ElementsAre(-128.f, 0.f, 127.f));
}

TEST(QuantizeTensorTest, EmptyTensorsConvertToEmptyTensors) {
  const QuantParams q{{1.f, 2.f, 3.f}, {0, 0, 0}, 1, DType::kUint8};
  auto out = QuantizeTensor(TensorView{DType::kFloat32, {0, 3}, nullptr}, q);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape(), (Shape{0, 3}));
  auto back = DequantizeTensor(TensorView{DType::kUint8, {0, 3}, nullptr}, q);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->num_elements(), 0);
}

// ---------------------------------------------------------------------------- errors
struct ErrorCase {
  const char* name;
  TensorView tensor;
  QuantParams q;
  bool quantize;                     // QuantizeTensor, else DequantizeTensor
  std::vector<const char*> message;  // substrings the message must hold
};

// gtest prints parameters in failure messages and test lists: the name says it all.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

const std::vector<float> kFloats(8, 1.f);
const std::vector<uint8_t> kBytes(8, 1);

std::vector<ErrorCase> ErrorCases() {
  const TensorView f{DType::kFloat32, {2, 4}, kFloats.data()};
  const TensorView u8{DType::kUint8, {2, 4}, kBytes.data()};
  const TensorView i8{DType::kInt8, {2, 4}, kBytes.data()};
  const QuantParams ok = PerTensor(0.5f, 3, DType::kUint8);
  auto with = [&](auto change) {
    QuantParams q = ok;
    change(q);
    return q;
  };
  return {
      {"QuantizeNonFloat", u8, ok, true, {"float32", "uint8 [2,4]"}},
      {"QuantizeToInt32",
       f,
       with([](QuantParams& q) { q.storage = DType::kInt32; }),
       true,
       {"uint8 or int8", "int32"}},
      {"QuantizeToUnknown",
       f,
       with([](QuantParams& q) { q.storage = DType::kUnknown; }),
       true,
       {"uint8 or int8", "unknown"}},
      {"DequantizeFloat", f, ok, false, {"uint8, int8 or int32", "float32 [2,4]"}},
      {"DequantizeWrongStorage", i8, ok, false, {"expected a uint8", "int8 [2,4]"}},
      {"NoScales",
       f,
       with([](QuantParams& q) {
         q.scales.clear();
         q.zero_points.clear();
       }),
       true,
       {"0 scales"}},
      {"ZeroPointCountMismatch",
       f,
       with([](QuantParams& q) {
         q.zero_points = {1, 2};
       }),
       true,
       {"1 scales and 2 zero points"}},
      {"ZeroScale",
       f,
       with([](QuantParams& q) { q.scales = {0.f}; }),
       true,
       {"scale 0", "positive"}},
      {"NegativeScale", u8, with([](QuantParams& q) { q.scales = {-1.f}; }), false, {"scale -1"}},
      {"NanScale",
       f,
       with([](QuantParams& q) { q.scales = {std::nanf("")}; }),
       true,
       {"positive finite"}},
      {"ManyScalesWithoutAxis",
       f,
       with([](QuantParams& q) {
         q.scales = {1.f, 1.f, 1.f, 1.f};
         q.zero_points = {0, 0, 0, 0};
       }),
       true,
       {"per-tensor", "got 4", "axis"}},
      {"AxisOutOfRange",
       u8,
       with([](QuantParams& q) {
         q.scales = {1.f, 1.f};
         q.zero_points = {0, 0};
         q.axis = 2;
       }),
       false,
       {"axis 2", "out of range", "[2,4]", "-2 .. 1"}},
      {"PerAxisCountMismatch",
       f,
       with([](QuantParams& q) {
         q.scales = {1.f, 1.f, 1.f};
         q.zero_points = {0, 0, 0};
         q.axis = 1;
       }),
       true,
       {"axis 1", "3 scales", "expected a shape [2,3]", "got float32 [2,4]"}},
      {"ZeroPointOutOfRange",
       f,
       with([](QuantParams& q) { q.zero_points = {300}; }),
       true,
       {"zero point 300", "uint8"}},
      {"ZeroPointOutOfInt8Range",
       i8,
       with([](QuantParams& q) {
         q.zero_points = {-129};
         q.storage = DType::kInt8;
       }),
       false,
       {"zero point -129", "int8"}},
      {"NegativeDim",
       TensorView{DType::kFloat32, {-1, 4}, kFloats.data()},
       ok,
       true,
       {"[?,4]", "negative"}},
      {"NoData", TensorView{DType::kUint8, {2, 4}, nullptr}, ok, false, {"uint8 [2,4]", "no data"}},
  };
}

class BoundaryQuantizeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BoundaryQuantizeErrorTest, IsInvalidArgumentWithAMessageSayingWhatFits) {
  const ErrorCase& c = GetParam();
  auto result = c.quantize ? QuantizeTensor(c.tensor, c.q) : DequantizeTensor(c.tensor, c.q);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  for (const char* part : c.message) EXPECT_THAT(result.status().message(), HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(Cases, BoundaryQuantizeErrorTest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace q8::engine
