#include "client/host_tensor.h"

#include <bit>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::client {
namespace {

struct DTypeInfo {
  absl::string_view name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {"bool", 1},   {"int8", 1},  {"uint8", 1},  {"int16", 2},   {"uint16", 2},  {"int32", 4},
    {"uint32", 4}, {"int64", 8}, {"uint64", 8}, {"float16", 2}, {"float32", 4}, {"float64", 8},
};

}  // namespace

std::optional<size_t> DTypeSize(absl::string_view dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.name == dtype) return info.size;
  }
  return std::nullopt;
}

absl::string_view KnownDTypes() {
  return "bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, "
         "float16, float32, float64";
}

absl::StatusOr<int64_t> NumElements(absl::Span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("negative dimension in shape ", ShapeString(shape)));
    }
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " has too many elements"));
    }
    n *= d;
  }
  return n;
}

absl::Status CheckHostTensor(const HostTensor& t, absl::string_view what) {
  std::optional<size_t> size = DTypeSize(t.dtype);
  if (!size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unsupported dtype '", t.dtype, "' (known: ", KnownDTypes(), ")"));
  }
  absl::StatusOr<int64_t> n = NumElements(t.shape);
  if (!n.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", n.status().message()));
  // Divide instead of multiplying so a huge shape cannot overflow.
  if (t.data.size() % *size != 0 || t.data.size() / *size != static_cast<uint64_t>(*n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", t.data.size(), " data bytes do not match shape ", ShapeString(t.shape), " of ",
        t.dtype, " (expected ", static_cast<uint64_t>(*n) * *size, ")"));
  }
  return absl::OkStatus();
}

std::string ShapeString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

uint16_t FloatToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t exp = (x >> 23) & 0xFF;
  uint32_t mant = x & 0x7FFFFF;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00 | (mant ? 0x200 : 0));
  const int e = static_cast<int>(exp) - 127 + 15;  // rebias 8-bit -> 5-bit
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7C00);
  if (e <= 0) {
    // Half subnormal: value = m * 2^-24. With the 24-bit significand
    // s = 1.mant * 2^23, value = s * 2^(e - 15 - 23), so m = s >> (14 - e).
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    const int shift = 14 - e;
    uint32_t m = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (m & 1))) ++m;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t h = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFF;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  const uint32_t bits =
      exp == 31 ? (sign | 0x7F800000 | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  return std::bit_cast<float>(bits);
}

}  // namespace q8::client
