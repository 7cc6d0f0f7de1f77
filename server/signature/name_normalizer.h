// Tensor-name normalisation: strips the decorations quantization tools and exporters
// add to a tensor's name, so `serving_default_images:0`, `images_QuantizeLinear_Output`,
// `quant_images` and `logits/Dequantize:0` compare equal to `images` / `logits`.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace q8::server {

struct NormalizedName {
  std::string name;                   // lower-cased, decorations removed
  std::vector<std::string> stripped;  // what was removed, in order, for explanations
};

// Repeatedly removes, until nothing changes: an output-index suffix (":0"), known
// prefixes (`serving_default_`, `quant_`, `quantized_`, a leading '/') and suffixes
// (`_QuantizeLinear_Output`, `_DequantizeLinear`, `/Dequantize`, `_quantized`, `_quant`,
// `_int8`, ...; the table is in name_normalizer.cc). Case-insensitive: tools disagree on
// case (`/Dequantize` vs `_dequantize`). Never returns an empty name: a name made only of
// decorations normalises to itself, lower-cased.
NormalizedName NormalizeTensorName(absl::string_view name);

}  // namespace q8::server
