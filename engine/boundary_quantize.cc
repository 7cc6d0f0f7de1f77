// QuantizeTensor / DequantizeTensor (engine.h): the float ↔ int8 conversions the server
// applies at a model's boundary. They run the same loops as the graph's QuantizeLinear /
// DequantizeLinear kernels (quant/quant_math.h), so a float request quantized here gives
// the q values an in-graph QuantizeLinear with the same parameters would.
#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/quant/quant_math.h"

namespace q8::engine {
namespace {

std::string Describe(const TensorView& t) {
  return absl::StrCat(DTypeName(t.dtype), " ", ShapeToString(t.shape));
}

// Checks the tensor and its parameters against each other and returns how the
// parameters map onto the elements. Everything a caller can get wrong is reported here,
// before any element is touched.
absl::StatusOr<quant::AxisLayout> CheckParams(const TensorView& t, const QuantParams& q) {
  for (int64_t d : t.shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor shape ", ShapeToString(t.shape), " has a negative dim"));
    }
  }
  if (t.data == nullptr && NumElements(t.shape) > 0) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Describe(t), " has no data"));
  }
  const auto count = static_cast<int64_t>(q.scales.size());
  if (count == 0 || q.zero_points.size() != q.scales.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quantization parameters need as many zero points as scales (at least one), got ",
        q.scales.size(), " scales and ", q.zero_points.size(), " zero points"));
  }
  for (float s : q.scales) {
    // A zero, negative or non-finite scale has no inverse: every value would quantize
    // to the zero point (or NaN) without an error.
    if (!(std::isfinite(s) && s > 0.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantization scale ", s, " is not a positive finite number"));
    }
  }
  if (!q.axis) {
    if (count != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "per-tensor quantization takes one scale, got ", count, " (set an axis for per-axis)"));
    }
    return quant::AxisLayout{};
  }
  const auto rank = static_cast<int64_t>(t.shape.size());
  const int64_t axis = *q.axis < 0 ? *q.axis + rank : *q.axis;
  if (axis < 0 || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat("quantization axis ", *q.axis,
                                                   " is out of range for tensor ", Describe(t),
                                                   " (expected -", rank, " .. ", rank - 1, ")"));
  }
  if (t.shape[axis] != count) {
    Shape expected = t.shape;
    expected[axis] = count;
    return absl::InvalidArgumentError(absl::StrCat("per-axis quantization along axis ", axis,
                                                   " has ", count, " scales; expected a shape ",
                                                   ShapeToString(expected), ", got ", Describe(t)));
  }
  return quant::MakeAxisLayout(t.shape, static_cast<int>(axis), count);
}

// The zero points in the storage type, each checked to fit it.
template <typename Q>
absl::StatusOr<std::vector<Q>> ZeroPointsAs(const QuantParams& q, DType storage) {
  std::vector<Q> zps;
  zps.reserve(q.zero_points.size());
  for (int64_t z : q.zero_points) {
    if (z < std::numeric_limits<Q>::min() || z > std::numeric_limits<Q>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("zero point ", z, " does not fit ", DTypeName(storage)));
    }
    zps.push_back(static_cast<Q>(z));
  }
  return zps;
}

// real (float32) → q (Q), after CheckParams.
template <typename Q>
absl::StatusOr<Tensor> QuantizeAs(const TensorView& real, const QuantParams& q, DType storage,
                                  const quant::AxisLayout& layout) {
  auto zps = ZeroPointsAs<Q>(q, storage);
  if (!zps.ok()) return zps.status();
  Tensor out(storage, real.shape);
  // Empty tensors skip the loop: a zero dim after the axis would make its block size 0.
  if (out.num_elements() > 0) {
    quant::QuantizeLoop(static_cast<const float*>(real.data), out.num_elements(), q.scales.data(),
                        zps->data(), layout, out.data_as<Q>());
  }
  return out;
}

// q (Q) → real (float32), after CheckParams.
template <typename Q>
absl::StatusOr<Tensor> DequantizeAs(const TensorView& quantized, const QuantParams& q,
                                    const quant::AxisLayout& layout) {
  auto zps = ZeroPointsAs<Q>(q, quantized.dtype);
  if (!zps.ok()) return zps.status();
  Tensor out(DType::kFloat32, quantized.shape);
  if (out.num_elements() > 0) {
    quant::DequantizeLoop(static_cast<const Q*>(quantized.data), out.num_elements(),
                          q.scales.data(), zps->data(), layout, out.data_as<float>());
  }
  return out;
}

}  // namespace

absl::StatusOr<Tensor> QuantizeTensor(const TensorView& real, const QuantParams& q) {
  if (real.dtype != DType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a float32 tensor to quantize, got ", Describe(real)));
  }
  if (q.storage != DType::kUint8 && q.storage != DType::kInt8) {
    return absl::InvalidArgumentError(
        absl::StrCat("can quantize to uint8 or int8 storage, not ", DTypeName(q.storage)));
  }
  auto layout = CheckParams(real, q);
  if (!layout.ok()) return layout.status();
  return q.storage == DType::kUint8 ? QuantizeAs<uint8_t>(real, q, q.storage, *layout)
                                    : QuantizeAs<int8_t>(real, q, q.storage, *layout);
}

absl::StatusOr<Tensor> DequantizeTensor(const TensorView& quantized, const QuantParams& q) {
  const DType dt = quantized.dtype;
  if (dt != DType::kUint8 && dt != DType::kInt8 && dt != DType::kInt32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a uint8, int8 or int32 tensor to dequantize, got ", Describe(quantized)));
  }
  // The zero point lives in the storage type; reading int8 bytes with uint8 parameters
  // (or the reverse) would silently shift every value by 128.
  if (q.storage != DType::kUnknown && q.storage != dt) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ", DTypeName(q.storage),
                     " tensor (the quantization's storage type), got ", Describe(quantized)));
  }
  auto layout = CheckParams(quantized, q);
  if (!layout.ok()) return layout.status();
  switch (dt) {
    case DType::kUint8:
      return DequantizeAs<uint8_t>(quantized, q, *layout);
    case DType::kInt8:
      return DequantizeAs<int8_t>(quantized, q, *layout);
    default:
      return DequantizeAs<int32_t>(quantized, q, *layout);
  }
}

}  // namespace q8::engine
