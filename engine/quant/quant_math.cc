#include "engine/quant/quant_math.h"

namespace q8::engine::quant {

AxisLayout MakeAxisLayout(absl::Span<const int64_t> shape, int axis, int64_t param_count) {
  AxisLayout layout;
  if (param_count <= 1) return layout;
  layout.channels = param_count;
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) layout.inner *= shape[d];
  return layout;
}

}  // namespace q8::engine::quant
