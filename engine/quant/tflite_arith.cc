#include "engine/quant/tflite_arith.h"

#include <cstring>
#include <limits>

namespace q8::engine::quant::tflite {
namespace {

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// XNNPACK's lrintf(r · 2^shift), computed as it does: by adding shift to r's exponent
// field (exact for the normal floats the range checks admit), then rounding half to even.
int32_t ScaledMultiplier(float r, int32_t shift) {
  return static_cast<int32_t>(std::lrint(FromBits(Bits(r) + (static_cast<uint32_t>(shift) << 23))));
}

int32_t Clamp(double v, int32_t qmin, int32_t qmax) {
  return static_cast<int32_t>(std::clamp(v, static_cast<double>(qmin), static_cast<double>(qmax)));
}

}  // namespace

OutputRange XnnpackOutputRange(float min, float max, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax) {
  // lrintf(fminf(fmaxf(bound / scale + zero_point, qmin), qmax)); infinities clamp.
  auto quantize = [&](float bound) {
    const float v = std::clamp(bound / scale + static_cast<float>(zero_point),
                               static_cast<float>(qmin), static_cast<float>(qmax));
    return static_cast<int32_t>(std::lrint(v));
  };
  return OutputRange{std::isinf(min) ? qmin : quantize(min),
                     std::isinf(max) ? qmax : quantize(max)};
}

OutputRange BuiltinOutputRange(float min, float max, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax) {
  auto quantize = [&](float bound) {
    return Clamp(static_cast<double>(zero_point) + std::round(bound / scale), qmin, qmax);
  };
  return OutputRange{std::isinf(min) ? qmin : quantize(min),
                     std::isinf(max) ? qmax : quantize(max)};
}

std::optional<AddParams> MakeAddParams(float a_scale, int32_t a_zero_point, float b_scale,
                                       int32_t b_zero_point, float y_scale, int32_t y_zero_point,
                                       bool subtract, OutputRange range) {
  const float ra = a_scale / y_scale;
  const float rb = (subtract ? -b_scale : b_scale) / y_scale;
  for (float r : {ra, rb}) {
    if (!(std::abs(r) >= 0x1.0p-10f && std::abs(r) < 0x1.0p+8f)) return std::nullopt;
  }
  const float largest = std::max(std::abs(ra), std::abs(rb));
  const int32_t exponent = static_cast<int32_t>(Bits(largest) >> 23) - 127;
  AddParams p;
  p.shift = 20 - exponent;  // in [13, 30]
  p.a_multiplier = ScaledMultiplier(ra, p.shift);
  p.b_multiplier = ScaledMultiplier(rb, p.shift);
  p.bias =
      (int32_t{1} << (p.shift - 1)) - p.a_multiplier * a_zero_point - p.b_multiplier * b_zero_point;
  p.y_zero_point = y_zero_point;
  p.range = range;
  return p;
}

std::optional<MulParams> MakeMulParams(float a_scale, int32_t a_zero_point, float b_scale,
                                       int32_t b_zero_point, float y_scale, int32_t y_zero_point,
                                       OutputRange range) {
  const float scale = a_scale * b_scale / y_scale;
  if (!(scale >= 0x1.0p-16f && scale < 0x1.0p+8f)) return std::nullopt;
  return MulParams{a_zero_point, b_zero_point, y_zero_point, scale, range};
}

std::optional<MeanParams> MakeMeanParams(float x_scale, int32_t x_zero_point, float y_scale,
                                         int32_t y_zero_point, int64_t n, OutputRange range) {
  const float ratio = x_scale / y_scale;
  // Σ x_q over n int8 values must stay an exact int32 (and float conversion exact-ish).
  if (!(ratio >= 0x1.0p-8f && ratio < 0x1.0p+8f) || n < 1 || n > (int64_t{1} << 23)) {
    return std::nullopt;
  }
  MeanParams p;
  p.bias = static_cast<int32_t>(-n * x_zero_point);
  p.scale = x_scale / (y_scale * static_cast<float>(n));
  p.y_zero_point = y_zero_point;
  p.range = range;
  return p;
}

std::optional<RequantizeParams> MakeRequantizeParams(float x_scale, int32_t x_zero_point,
                                                     float y_scale, int32_t y_zero_point,
                                                     OutputRange range) {
  const float ratio = x_scale / y_scale;
  if (!(ratio >= 0x1.0p-8f && ratio <= 0x1.0p+7f)) return std::nullopt;
  RequantizeParams p;
  p.multiplier = static_cast<int32_t>(std::lrint(256.0f * ratio));
  p.bias = y_zero_point * 256 - p.multiplier * x_zero_point + 0x80;
  p.range = range;
  return p;
}

}  // namespace q8::engine::quant::tflite
