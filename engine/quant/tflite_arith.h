// TensorFlow Lite's int8 arithmetic for the ops whose requantization is not the engine's
// generic round_half_even(v / s_y) + z_y, written as scalar reference code: the kernels of
// kernels/tflite_int8_kernels.cc call these per element, so tests of this file are tests of
// the kernels' arithmetic.
//
// Which arithmetic: the reference interpreter's (../shared/bench/tflite/run.js, standard
// TFLite with its default XNNPACK delegate). Its profile shows which kernel runs each op:
// XNNPACK for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, MEAN over the
// spatial axes, LOGISTIC, QUANTIZE and DEQUANTIZE; TFLite's builtin kernels for
// AVERAGE_POOL_2D, SOFTMAX, TANH and UNIDIRECTIONAL_SEQUENCE_LSTM. Each formula below was
// fitted to that interpreter's outputs over every pair (a, b) of int8 values (ADD, SUB, MUL,
// QUANTIZE) or 10^4-10^5 seeded elements (pools, MEAN), with scales chosen so that the
// candidate formulas disagree, and matches on all of them; the alternatives that failed are
// named where they are tempting.
//
// Convolutions and fully connected layers need nothing here: XNNPACK's
// round_half_even(float(acc) · fl(fl(s_x·s_w)/s_y)) + z_y is what the oneDNN int8 kernels
// compute once the bias is added as an integer and the rounding comes before the zero point
// (passes::FoldBias, AppendDstZeroPoint). SOFTMAX, LOGISTIC and TANH run in float in
// the engine; the interpreter's table lookups differ from them only at exact rounding ties
// (none in 10^5 probed elements).
//
// Thread-safe: plain functions and value types.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

namespace q8::engine::quant::tflite {

// The quantized bounds [lo, hi] of a fused activation whose real range is [min, max]
// (±infinity: none), clamped to the storage range [qmin, qmax], as XNNPACK quantizes them:
// lrintf(bound / s + z), round half to even.
struct OutputRange {
  int32_t lo = -128, hi = 127;
};
OutputRange XnnpackOutputRange(float min, float max, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax);
// As TFLite's builtin kernels quantize them: z + round_half_away(bound / s).
OutputRange BuiltinOutputRange(float min, float max, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax);

// ADD and SUB (XNNPACK, fixed point). With r_a = fl(s_a/s_y), r_b = ±fl(s_b/s_y) (minus for
// SUB) and e the binary exponent of max(|r_a|, |r_b|):
//   shift = 20 - e,  m_a = lrintf(r_a · 2^shift),  m_b = lrintf(r_b · 2^shift)
//   y_q = clamp(((2^(shift-1) - m_a·z_a - m_b·z_b) + m_a·a_q + m_b·b_q) >> shift + z_y)
// i.e. 20-21 bit multipliers and round half up (an arithmetic shift after adding half).
// (TFLite's builtin ADD — 31-bit multipliers, inputs pre-shifted by 2^20, round half away
// from zero — and float math with round half to even both miss ties this one hits.)
// XNNPACK accepts |r| in [2^-10, 2^8) only; outside it MakeAddParams returns nullopt.
struct AddParams {
  int32_t a_multiplier = 0, b_multiplier = 0;
  int32_t bias = 0;  // 2^(shift-1) - m_a·z_a - m_b·z_b
  int32_t shift = 0;
  int32_t y_zero_point = 0;
  OutputRange range;
};
std::optional<AddParams> MakeAddParams(float a_scale, int32_t a_zero_point, float b_scale,
                                       int32_t b_zero_point, float y_scale, int32_t y_zero_point,
                                       bool subtract, OutputRange range);
inline int32_t Add(const AddParams& p, int32_t a, int32_t b) {
  const int32_t acc = p.bias + a * p.a_multiplier + b * p.b_multiplier;  // |acc| < 2^31
  return std::clamp((acc >> p.shift) + p.y_zero_point, p.range.lo, p.range.hi);
}

// MUL (XNNPACK, float requantization):
//   y_q = clamp(round_half_even(float((a_q - z_a)·(b_q - z_b)) · fl(fl(s_a·s_b)/s_y)) + z_y)
// (fl(s_a·fl(s_b/s_y)) misses.) XNNPACK accepts a product scale in [2^-16, 2^8) only.
struct MulParams {
  int32_t a_zero_point = 0, b_zero_point = 0, y_zero_point = 0;
  float scale = 1.f;
  OutputRange range;
};
std::optional<MulParams> MakeMulParams(float a_scale, int32_t a_zero_point, float b_scale,
                                       int32_t b_zero_point, float y_scale, int32_t y_zero_point,
                                       OutputRange range);
inline int32_t Mul(const MulParams& p, int32_t a, int32_t b) {
  const float v = static_cast<float>((a - p.a_zero_point) * (b - p.b_zero_point)) * p.scale;
  const float lo = static_cast<float>(p.range.lo - p.y_zero_point);
  const float hi = static_cast<float>(p.range.hi - p.y_zero_point);
  return static_cast<int32_t>(std::nearbyint(std::clamp(v, lo, hi))) + p.y_zero_point;
}

// MEAN over the spatial axes (XNNPACK global average pooling), n elements per output:
//   y_q = clamp(round_half_even(float(Σ x_q - n·z_x) · fl(s_x / fl(s_y·n))) + z_y)
// (averaging first, or rounding half away from zero, misses.) XNNPACK accepts s_x/s_y in
// [2^-8, 2^8) only.
struct MeanParams {
  int32_t bias = 0;  // -n·z_x
  float scale = 1.f;
  int32_t y_zero_point = 0;
  OutputRange range;
};
std::optional<MeanParams> MakeMeanParams(float x_scale, int32_t x_zero_point, float y_scale,
                                         int32_t y_zero_point, int64_t n, OutputRange range);
inline int32_t Mean(const MeanParams& p, int32_t sum) {
  const float v = static_cast<float>(sum + p.bias) * p.scale;
  const float lo = static_cast<float>(p.range.lo - p.y_zero_point);
  const float hi = static_cast<float>(p.range.hi - p.y_zero_point);
  return static_cast<int32_t>(std::nearbyint(std::clamp(v, lo, hi))) + p.y_zero_point;
}

// AVERAGE_POOL_2D (TFLite's builtin int8 kernel; input and output share scale and zero
// point, so it averages the stored values): the sum of the `count` stored values the window
// covers (padding excluded), divided rounding half away from zero, then clamped.
//   y_q = clamp(acc > 0 ? (acc + count/2) / count : (acc - count/2) / count)   (C division)
// (round half to even, oneDNN's, misses: e.g. a 2x2 window summing to 2 gives 1, not 0.)
inline int32_t AveragePool(int32_t acc, int32_t count, OutputRange range) {
  const int32_t avg = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  return std::clamp(avg, range.lo, range.hi);
}

// MEAN over other axes than the spatial pair, output on the input's own scale and zero
// point (TFLite's builtin reduce kernel then averages the stored values): the sum of the
// n stored values, divided truncating toward zero (C division). Every other MEAN is the
// engine's float requantization, round_half_even((Σx_q/n - z_x)·s_x/s_y) + z_y, which the
// interpreter's outputs match exactly (tests/fixtures/tflite/ops/mean_int8).
//   y_q = trunc(Σ x_q / n)
// (rounding, half to even or away from zero, misses: off by one on 40-47 % of the outputs.)
inline int32_t StoredMean(int64_t sum, int64_t n) { return static_cast<int32_t>(sum / n); }

// QUANTIZE from int8 to int8 with new parameters (XNNPACK's convert): an 8-bit multiplier,
//   m = lrintf(256 · fl(s_x/s_y)),  y_q = clamp((256·z_y - m·z_x + 128 + m·x_q) >> 8)
// — coarse (m carries 8 fractional bits), and the interpreter's answer; float
// round_half_even((x_q - z_x)·s_x/s_y) + z_y differs by one on 6-25 % of the inputs.
// XNNPACK accepts s_x/s_y in [2^-8, 2^7] only.
struct RequantizeParams {
  int32_t multiplier = 0;
  int32_t bias = 0;  // 256·z_y - m·z_x + 128
  OutputRange range;
};
std::optional<RequantizeParams> MakeRequantizeParams(float x_scale, int32_t x_zero_point,
                                                     float y_scale, int32_t y_zero_point,
                                                     OutputRange range);
inline int32_t Requantize(const RequantizeParams& p, int32_t x) {
  return std::clamp((p.bias + x * p.multiplier) >> 8, p.range.lo, p.range.hi);
}

}  // namespace q8::engine::quant::tflite
