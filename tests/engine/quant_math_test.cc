#include "engine/quant/quant_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace q8::engine::quant {
namespace {

TEST(QuantizeTest, RoundsHalfToEvenAsOnnxSpecifies) {
  // ONNX QuantizeLinear rounds halves to even: 2.5 → 2, 3.5 → 4, -2.5 → -2.
  EXPECT_EQ(Quantize<int8_t>(2.5f, 1.f, 0), 2);
  EXPECT_EQ(Quantize<int8_t>(3.5f, 1.f, 0), 4);
  EXPECT_EQ(Quantize<int8_t>(-2.5f, 1.f, 0), -2);
  EXPECT_EQ(Quantize<int8_t>(-3.5f, 1.f, 0), -4);
  EXPECT_EQ(Quantize<uint8_t>(0.5f, 1.f, 10), 10);
  EXPECT_EQ(Quantize<uint8_t>(1.5f, 1.f, 10), 12);
}

TEST(QuantizeTest, SaturatesToTheStorageRange) {
  EXPECT_EQ(Quantize<uint8_t>(1000.f, 1.f, 0), 255);
  EXPECT_EQ(Quantize<uint8_t>(-1000.f, 1.f, 128), 0);
  EXPECT_EQ(Quantize<int8_t>(1000.f, 0.5f, 0), 127);
  EXPECT_EQ(Quantize<int8_t>(-1000.f, 0.5f, 0), -128);
}

TEST(QuantizeTest, AppliesScaleAndZeroPoint) {
  // y = round(x / s) + z
  EXPECT_EQ(Quantize<uint8_t>(0.2f, 0.1f, 128), 130);
  EXPECT_EQ(Quantize<int8_t>(-0.35f, 0.1f, 3), -1);  // -3.5 → -4 (even), +3 → -1
}

// QuantizeSpan is the vectorised, threaded form of Quantize<Q>: it must agree bit for bit,
// including halves, NaN, infinities, saturation and the scalar tail of odd lengths.
template <typename Q>
void ExpectSpanMatchesScalar(float scale, int32_t zero_point) {
  std::vector<float> x;
  for (int i = -600; i <= 600; ++i) x.push_back(static_cast<float>(i) * 0.25f);  // halves
  for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), 1e30f, -1e30f, 0.f, -0.f}) {
    x.push_back(v);
  }
  for (int i = 0; i < 70001; ++i) x.push_back(std::sin(static_cast<float>(i)) * 300.f);  // > 64K
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{17}, x.size()}) {
    std::vector<Q> fast(n), slow(n);
    QuantizeSpan(x.data(), static_cast<int64_t>(n), scale, zero_point, fast.data());
    for (size_t i = 0; i < n; ++i) slow[i] = Quantize<Q>(x[i], scale, zero_point);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(static_cast<int>(fast[i]), static_cast<int>(slow[i]))
          << "x=" << x[i] << " scale=" << scale << " zp=" << zero_point << " n=" << n;
    }
  }
}

TEST(QuantizeSpanTest, MatchesScalarQuantizeBitForBit) {
  ExpectSpanMatchesScalar<uint8_t>(0.5f, 128);
  ExpectSpanMatchesScalar<uint8_t>(1.f / 3.f, 0);
  ExpectSpanMatchesScalar<int8_t>(0.25f, 0);
  ExpectSpanMatchesScalar<int8_t>(0.0371f, -7);
}

// RangeWithZero against the scalar definition, min(0, min x) / max(0, max x) with NaNs
// ignored, over lengths around its vector width and past its threading threshold, with the
// extremes placed in the scalar tail, in each thread's chunk and next to NaNs.
TEST(RangeWithZeroTest, MatchesTheScalarDefinition) {
  std::vector<float> x;
  for (int i = 0; i < 200003; ++i) x.push_back(std::sin(static_cast<float>(i) * 0.37f) * 5.f);
  x[7] = std::numeric_limits<float>::quiet_NaN();
  x[150000] = -std::numeric_limits<float>::quiet_NaN();
  for (size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{33}, size_t{70000}, x.size()}) {
    for (size_t extreme : {size_t{0}, n / 2, n - 1}) {
      if (n == 0) continue;
      std::vector<float> v(x.begin(), x.begin() + n);
      v[extreme] = (extreme % 2 ? -1 : 1) * 1e6f;
      float want_lo = 0.f, want_hi = 0.f;
      for (float f : v) {
        want_lo = f < want_lo ? f : want_lo;
        want_hi = f > want_hi ? f : want_hi;
      }
      float lo = 1.f, hi = -1.f;
      RangeWithZero(v.data(), static_cast<int64_t>(n), &lo, &hi);
      EXPECT_EQ(lo, want_lo) << "n=" << n << " extreme at " << extreme;
      EXPECT_EQ(hi, want_hi) << "n=" << n << " extreme at " << extreme;
    }
  }
  const std::vector<float> positive{1.f, 2.f, 3.f};
  float lo = 1.f, hi = -1.f;
  RangeWithZero(positive.data(), 3, &lo, &hi);
  EXPECT_EQ(lo, 0.f) << "the range always includes 0";
  EXPECT_EQ(hi, 3.f);
  RangeWithZero(positive.data(), 0, &lo, &hi);
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 0.f);
}

TEST(DequantizeTest, SubtractsZeroPointThenScales) {
  EXPECT_FLOAT_EQ(Dequantize<uint8_t>(130, 0.1f, 128), 0.2f);
  EXPECT_FLOAT_EQ(Dequantize<int8_t>(-128, 0.5f, 0), -64.f);
  EXPECT_FLOAT_EQ(Dequantize<int32_t>(-1000, 0.001f, 0), -1.f);
}

TEST(AxisLayoutTest, MapsElementsToChannels) {
  // Shape [2,3,4], per-channel on axis 1: element (n,c,w) uses channel c.
  AxisLayout l = MakeAxisLayout({2, 3, 4}, 1, 3);
  EXPECT_EQ(l.ChannelOf(0), 0);
  EXPECT_EQ(l.ChannelOf(4), 1);
  EXPECT_EQ(l.ChannelOf(11), 2);
  EXPECT_EQ(l.ChannelOf(12), 0);  // next n
  EXPECT_EQ(MakeAxisLayout({2, 3}, 1, 1).ChannelOf(5), 0);  // per-tensor
}

TEST(ReferenceMatMulIntTest, SubtractsZeroPoints) {
  // [1,2] @ [2,2] with a_zp = 1, b_zp = {0, 2}.
  const uint8_t a[] = {3, 5};
  const int8_t b[] = {1, 4, 2, 6};
  const std::vector<int32_t> bz{0, 2};
  int32_t acc[2];
  ReferenceMatMulInt(a, b, 1, 2, 2, 1, bz, acc);
  EXPECT_EQ(acc[0], (3 - 1) * 1 + (5 - 1) * 2);
  EXPECT_EQ(acc[1], (3 - 1) * (4 - 2) + (5 - 1) * (6 - 2));
}

}  // namespace
}  // namespace q8::engine::quant
