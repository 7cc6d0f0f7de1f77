// TFLite's int8 rounding rules (engine/quant/tflite_arith.h) on values worked out by hand
// from the formulas, at the ties where they differ from round-half-to-even; the fixtures
// of tflite_reference_test.cc check the same functions against the interpreter itself.
#include "engine/quant/tflite_arith.h"

#include <gtest/gtest.h>

#include <limits>

namespace q8::engine::quant::tflite {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const OutputRange kInt8{-128, 127};

TEST(TfliteAddTest, RoundsHalfUp) {
  // s_a/s_y = 0.5: exponent -1, shift 21, m_a = 2^20; b = 0 contributes nothing.
  auto p = MakeAddParams(0.5f, 0, 0.25f, 0, 1.f, 0, false, kInt8);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->shift, 21);
  EXPECT_EQ(p->a_multiplier, 1 << 20);
  EXPECT_EQ(p->b_multiplier, 1 << 19);
  EXPECT_EQ(Add(*p, 1, 0), 1);       // 0.5 → 1 (half to even: 0)
  EXPECT_EQ(Add(*p, 3, 0), 2);       // 1.5 → 2
  EXPECT_EQ(Add(*p, -1, 0), 0);      // -0.5 → 0 (half away from zero: -1)
  EXPECT_EQ(Add(*p, -3, 0), -1);     // -1.5 → -1 (half to even, half away: -2)
  EXPECT_EQ(Add(*p, 1, 2), 1);       // 0.5 + 0.5
  EXPECT_EQ(Add(*p, 127, 127), 95);  // 63.5 + 31.75 = 95.25
}

TEST(TfliteAddTest, SubtractsZeroPointsAndSaturates) {
  auto p = MakeAddParams(0.5f, 10, 0.5f, -20, 1.f, 5, false, kInt8);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(Add(*p, 10, -20), 5);     // both at their zero points
  EXPECT_EQ(Add(*p, 14, -16), 9);     // 2 + 2, + z_y
  EXPECT_EQ(Add(*p, 127, 127), 127);  // 58.5 + 73.5 saturates
  auto sub = MakeAddParams(0.5f, 0, 0.5f, 0, 1.f, 0, true, kInt8);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(Add(*sub, 6, 2), 2);
  EXPECT_EQ(Add(*sub, 2, 5), -1);  // -1.5 → -1
}

TEST(TfliteAddTest, ScaleRatiosOutsideXnnpacksRangeAreRefused) {
  EXPECT_FALSE(MakeAddParams(300.f, 0, 1.f, 0, 1.f, 0, false, kInt8).has_value());
  EXPECT_FALSE(MakeAddParams(1e-4f, 0, 1e-4f, 0, 1.f, 0, false, kInt8).has_value());
}

TEST(TfliteOutputRangeTest, QuantizesActivationBounds) {
  // RELU6 at scale 0.1, zero point 1: [round(0/0.1 + 1), round(6/0.1 + 1)] = [1, 61].
  const OutputRange relu6 = XnnpackOutputRange(0.f, 6.f, 0.1f, 1, -128, 127);
  EXPECT_EQ(relu6.lo, 1);
  EXPECT_EQ(relu6.hi, 61);
  const OutputRange none = XnnpackOutputRange(-kInf, kInf, 0.1f, 1, -128, 127);
  EXPECT_EQ(none.lo, -128);
  EXPECT_EQ(none.hi, 127);
  // Builtin kernels round the bound half away from zero: RELU_N1_TO_1 at scale 0.4 is
  // ±1/0.4 = ±2.5 (in float) → ±3, where half to even would give ±2.
  const OutputRange n1 = BuiltinOutputRange(-1.f, 1.f, 0.4f, 0, -128, 127);
  EXPECT_EQ(n1.lo, -3);
  EXPECT_EQ(n1.hi, 3);
}

TEST(TfliteMulTest, RequantizesTheIntegerProductInFloat) {
  auto p = MakeMulParams(0.5f, 1, 0.5f, -1, 1.f, 0, kInt8);  // scale 0.25
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(Mul(*p, 3, 1), 1);  // 2·2·0.25 = 1
  EXPECT_EQ(Mul(*p, 3, 2), 2);  // 2·3·0.25 = 1.5 → 2 (half to even)
  EXPECT_EQ(Mul(*p, 6, 1), 2);  // 5·2·0.25 = 2.5 → 2
  EXPECT_EQ(Mul(*p, 127, 127), 127);
}

TEST(TfliteMeanTest, ScalesTheIntegerSum) {
  // 4 values, s_x/s_y = 1: y = round((Σx - 4·z_x) / 4) + z_y, half to even.
  auto p = MakeMeanParams(1.f, 2, 1.f, -1, 4, kInt8);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(Mean(*p, 8 + 4), 0);   // Σ(x - 2) = 4 → 1, -1
  EXPECT_EQ(Mean(*p, 8 + 2), -1);  // 0.5 → 0, -1
  EXPECT_EQ(Mean(*p, 8 + 6), 1);   // 1.5 → 2, -1
}

TEST(TfliteStoredMeanTest, TruncatesTowardZero) {
  EXPECT_EQ(StoredMean(7, 4), 1);    // 1.75
  EXPECT_EQ(StoredMean(-7, 4), -1);  // -1.75
  EXPECT_EQ(StoredMean(-2, 4), 0);   // -0.5
  EXPECT_EQ(StoredMean(-128 * 12, 12), -128);
}

TEST(TfliteAveragePoolTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(AveragePool(2, 4, kInt8), 1);    // 0.5
  EXPECT_EQ(AveragePool(-2, 4, kInt8), -1);  // -0.5
  EXPECT_EQ(AveragePool(6, 4, kInt8), 2);    // 1.5
  EXPECT_EQ(AveragePool(5, 4, kInt8), 1);    // 1.25
  EXPECT_EQ(AveragePool(7, 4, kInt8), 2);    // 1.75
  EXPECT_EQ(AveragePool(600, 4, OutputRange{-128, 100}), 100);
}

TEST(TfliteRequantizeTest, UsesAnEightBitMultiplier) {
  // s_x/s_y = 0.5517 → m = round(141.2) = 141; y = (256·3 - 141·(-10) + 128 + 141·x) >> 8.
  auto p = MakeRequantizeParams(0.0517f, -10, 0.0937f, 3, kInt8);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->multiplier, 141);
  EXPECT_EQ(Requantize(*p, -10), 3);  // the zero point maps to the zero point
  // x = -127: (768 + 1410 + 128 - 17907) >> 8 = -15601 >> 8 = -61 (float: -64.55 + 3 → -62).
  EXPECT_EQ(Requantize(*p, -127), -61);
  EXPECT_FALSE(MakeRequantizeParams(1.f, 0, 1000.f, 0, kInt8).has_value());
}

}  // namespace
}  // namespace q8::engine::quant::tflite
