// Reading a per-tensor (scale, zero point) pair from a node's constant inputs, as the
// QLinear* ops and the internal q8.* ops lay them out: scale at input i, zero point at i+1.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Input `scale_input` must be one positive float32 constant; input scale_input+1 is an
// optional one-value uint8/int8 constant (omitted: 0, uint8). Errors name the input.
absl::StatusOr<TensorQuant> ReadTensorQuant(const ir::Node& node, const ir::Graph& graph,
                                            size_t scale_input);

}  // namespace q8::engine::dnnl_backend
