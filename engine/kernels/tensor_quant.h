// Reading a node's constant quantization parameters (scales and zero points), as the
// QLinear* ops and the internal q8.* ops lay them out. The importer's checks
// (import/graph_checks.h) have already vetted the ONNX ops' parameters; these readers check
// again, because internal nodes are built by passes and importers, and a kernel must never
// read a scale from an int8 tensor or index past a zero point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "engine/ir/graph.h"

namespace q8::engine::dnnl_backend {

// real = scale · (q - zero_point), q of type `dtype` (uint8 or int8).
struct TensorQuant {
  float scale = 1.f;
  int32_t zero_point = 0;
  DType dtype = DType::kUint8;
};

// Input `scale_input` must be one finite, positive float32 constant; input scale_input+1
// is an optional one-value uint8/int8 constant (omitted: 0, uint8). Errors name the input.
absl::StatusOr<TensorQuant> ReadTensorQuant(const ir::Node& node, const ir::Graph& graph,
                                            size_t scale_input);

// The values of constant input `input` as scales: float32, scalar or 1-D, non-empty, every
// value finite and > 0. Errors name the input and the offending value.
absl::StatusOr<std::vector<float>> ReadScales(const ir::Node& node, const ir::Graph& graph,
                                              size_t input);

// The values of constant input `input` as zero points: uint8 or int8, scalar or 1-D,
// non-empty; `dtype` receives their type.
absl::StatusOr<std::vector<int32_t>> ReadZeroPoints(const ir::Node& node, const ir::Graph& graph,
                                                    size_t input, DType& dtype);

}  // namespace q8::engine::dnnl_backend
