#include "client/tensor_text.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace q8::client {

std::string FormatShape(const google::protobuf::RepeatedField<int64_t>& shape) {
  std::vector<std::string> dims;
  for (int64_t d : shape) dims.push_back(d < 0 ? "?" : absl::StrCat(d));
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

std::string FormatScale(float scale) { return absl::StrFormat("%.4g", scale); }

std::string FormatQuantParams(const q8serve::v1::QuantParams& quant) {
  if (quant.per_channel()) {
    return absl::StrCat("per-axis(", quant.axis(), ") ×", quant.scales_size());
  }
  const std::string scale = quant.scales().empty() ? "?" : FormatScale(quant.scales(0));
  const int64_t zero_point = quant.zero_points().empty() ? 0 : quant.zero_points(0);
  return absl::StrCat("s=", scale, " z=", zero_point);
}

std::string FormatQuant(const q8serve::v1::QuantParams& quant) {
  if (quant.storage_dtype().empty()) return FormatQuantParams(quant);
  return absl::StrCat(quant.storage_dtype(), " ", FormatQuantParams(quant));
}

}  // namespace q8::client
