#include "server/api/codec_util.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace q8::server {

absl::StatusOr<int64_t> CheckedNumElements(absl::string_view input, engine::DType dtype,
                                           absl::Span<const int64_t> shape) {
  const int64_t element_size = static_cast<int64_t>(engine::DTypeSize(dtype));
  const int64_t max_elements = kMaxDecodedTensorBytes / (element_size > 0 ? element_size : 1);
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Input '", input, "' has shape ", engine::ShapeToString(shape), ": dimension ", d,
          " is unknown; a request tensor needs concrete "
          "sizes"));
    }
    // Checked before multiplying so the product can never overflow.
    if (shape[d] != 0 && n > max_elements / shape[d]) {
      return absl::InvalidArgumentError(
          absl::StrCat("Input '", input, "' with shape ", engine::ShapeToString(shape),
                       " exceeds the ", kMaxDecodedTensorBytes, "-byte limit of a request tensor"));
    }
    n *= shape[d];
  }
  return n;
}

}  // namespace q8::server
