// Scalar quantization math, written as the ONNX operator definitions state it. These are
// the reference semantics: kernels on oneDNN must agree with them (tests check it), and
// boundary ops (QuantizeLinear / DequantizeLinear on graph inputs and outputs) use them
// directly.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/types/span.h"

namespace q8::engine::quant {

// ONNX QuantizeLinear: y = saturate(round_half_to_even(x / scale) + zero_point).
// std::nearbyint rounds half to even under the default FP environment, which the engine
// never changes. NaN maps to zero_point clamped (ONNX leaves it undefined).
// saturate(r + zero_point) for an already rounded r; NaN → zero_point.
template <typename Q>
inline Q SaturateWithZeroPoint(float r, int32_t zero_point) {
  if (std::isnan(r)) r = 0.0f;
  float v = r + static_cast<float>(zero_point);
  constexpr float lo = static_cast<float>(std::numeric_limits<Q>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<Q>::max());
  v = v < lo ? lo : (v > hi ? hi : v);
  return static_cast<Q>(v);
}

template <typename Q>
inline Q Quantize(float x, float scale, int32_t zero_point) {
  return SaturateWithZeroPoint<Q>(std::nearbyint(x / scale), zero_point);
}

// TFLite's float → int8 QUANTIZE as its reference interpreter runs it (XNNPACK's convert):
// the reciprocal of the scale taken once, in float, and the product rounded,
//   y = saturate(round_half_to_even(x · fl(1/scale)) + zero_point),
// which differs from x / scale by one unit wherever the two round apart (tens of elements
// per 10^4 inputs); a deep network amplifies a one-unit input difference.
template <typename Q>
inline Q QuantizeByReciprocal(float x, float inv_scale, int32_t zero_point) {
  return SaturateWithZeroPoint<Q>(std::nearbyint(x * inv_scale), zero_point);
}

// ONNX DequantizeLinear: y = (x - zero_point) * scale.
template <typename Q>
inline float Dequantize(Q q, float scale, int32_t zero_point) {
  return static_cast<float>(static_cast<int32_t>(q) - zero_point) * scale;
}

// How per-axis parameters map onto a row-major tensor: element i uses parameter
// (i / inner) % channels, where inner is the product of the dims after `axis`.
struct AxisLayout {
  int64_t channels = 1;  // 1 for per-tensor
  int64_t inner = 1;
  int64_t ChannelOf(int64_t i) const { return channels == 1 ? 0 : (i / inner) % channels; }
};
AxisLayout MakeAxisLayout(absl::Span<const int64_t> shape, int axis, int64_t param_count);

// Whole-tensor QuantizeLinear / DequantizeLinear over n elements with per-tensor or per-axis
// parameters (scale[c], zp[c] for channel c; zp may be null for 0). Shared by the graph's
// Q/DQ kernels and the server's boundary conversions (QuantizeTensor / DequantizeTensor).
// The loops dispatch on types once per call, not per element, and walk per-axis
// parameters as outer × channel × inner blocks so the inner loop has one scale.
template <typename Fn>
void ForEachChannelBlock(int64_t n, const AxisLayout& l, Fn&& fn) {
  if (l.channels == 1) {
    fn(int64_t{0}, int64_t{0}, n);
    return;
  }
  const int64_t block = l.inner, outer = n / (l.channels * l.inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) fn(c, (o * l.channels + c) * block, block);
  }
}

// Quantize<Q> over x[0..n) with one scale and zero point: bit-identical to the scalar
// loop, vectorised (AVX-512 when the CPU has it) and split across the OpenMP team for
// large spans. quantize_span.cc.
void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* y);
void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zero_point, int8_t* y);

// The range DynamicQuantizeLinear quantizes to: *lo = min(0, min x), *hi = max(0, max x),
// NaNs ignored (as `x < lo ? x : lo` ignores them). Vectorised and split like QuantizeSpan:
// it is a full pass over an activation that is usually out of L2 (mlp_dynamic: 12 MB).
void RangeWithZero(const float* x, int64_t n, float* lo, float* hi);

template <typename Q>
void QuantizeLoop(const float* x, int64_t n, const float* scale, const Q* zp, const AxisLayout& l,
                  Q* y) {
  ForEachChannelBlock(n, l, [&](int64_t c, int64_t begin, int64_t count) {
    QuantizeSpan(x + begin, count, scale[c], zp ? zp[c] : 0, y + begin);
  });
}

template <typename Q>
void DequantizeLoop(const Q* x, int64_t n, const float* scale, const Q* zp, const AxisLayout& l,
                    float* y) {
  ForEachChannelBlock(n, l, [&](int64_t c, int64_t begin, int64_t count) {
    const float s = scale[c];
    const int32_t z = zp ? static_cast<int32_t>(zp[c]) : 0;
    for (int64_t i = begin; i < begin + count; ++i) y[i] = Dequantize<Q>(x[i], s, z);
  });
}

// Reference int8 matrix product with zero points, for any (u8|s8) × (u8|s8) → int32:
//   acc[m][n] = Σ_k (a[m][k] - a_zp) · (b[k][n] - b_zp[n])   (b_zp per column or common)
// a is [M,K] row-major; b is [K,N] row-major. Used by conformance fall-backs and tests.
template <typename A, typename B>
void ReferenceMatMulInt(const A* a, const B* b, int64_t M, int64_t K, int64_t N, int32_t a_zp,
                        absl::Span<const int32_t> b_zp, int32_t* acc) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      const int32_t bz = b_zp.size() == 1 ? b_zp[0] : b_zp[n];
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += (static_cast<int32_t>(a[m * K + k]) - a_zp) * (static_cast<int32_t>(b[k * N + n]) - bz);
      }
      acc[m * N + n] = s;
    }
  }
}

}  // namespace q8::engine::quant
