// Sliding-window geometry shared by convolution and pooling: ONNX's kernel_shape /
// strides / dilations / pads / auto_pad / ceil_mode attributes, turned into output sizes
// and the oneDNN padding for one concrete input shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/ir/graph.h"

namespace q8::engine::dnnl_backend {

// The attributes as the node states them, checked for rank once at load.
struct WindowAttrs {
  std::vector<int64_t> kernel;     // one per spatial dim
  std::vector<int64_t> strides;    // default 1
  std::vector<int64_t> dilations;  // default 1 (ONNX counting: 1 = dense)
  std::vector<int64_t> pads;       // begin..., end...; default 0
  std::string auto_pad = "NOTSET"; // NOTSET, SAME_UPPER, SAME_LOWER, VALID
  bool ceil_mode = false;          // pooling only

  // Reads the attributes of `node`. `kernel` is kernel_shape, or `default_kernel` when the
  // node omits it (Conv takes it from constant weights). When neither is known (weights
  // fed at run time) the result is unresolved: call Resolve once the kernel is known.
  // Errors name the bad attribute.
  static absl::StatusOr<WindowAttrs> FromNode(const ir::Node& node,
                                              std::vector<int64_t> default_kernel = {});
  // These attributes with `kernel_shape` filled in (when unresolved) and checked.
  absl::StatusOr<WindowAttrs> Resolve(std::vector<int64_t> kernel_shape) const;
  size_t rank() const { return kernel.size(); }
};

// One window placement over a concrete input, in oneDNN's terms.
struct WindowPlan {
  std::vector<int64_t> out;  // output spatial sizes
  dnnl::memory::dims strides, kernel, dilation, pad_l, pad_r;  // dilation 0-based
};

// Output sizes and paddings for spatial input sizes `in`:
//   NOTSET: out = floor|ceil((in + pad_b + pad_e - ((k-1)·d + 1)) / s) + 1
//   VALID:  as NOTSET with zero pads
//   SAME_*: out = ceil(in / s), total pad = max(0, (out-1)·s + (k-1)·d + 1 - in), the odd
//           unit at the end (UPPER) or the beginning (LOWER).
// With ceil_mode the last window must start inside the input or its leading pad (as in
// ONNX's reference), and the trailing pad grows to cover it.
absl::StatusOr<WindowPlan> PlanWindow(const WindowAttrs& attrs, absl::Span<const int64_t> in);

}  // namespace q8::engine::dnnl_backend
