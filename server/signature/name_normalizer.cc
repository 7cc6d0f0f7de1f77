#include "server/signature/name_normalizer.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace q8::server {
namespace {

// Longest first where one decoration ends another (`_quantized` before `_quant`).
// Sources: onnxruntime quantize_static (QDQ and QOperator), TF quantize_graph /
// graph_transforms, the TF Lite converter, PyTorch/NNCF ONNX exports.
constexpr absl::string_view kSuffixes[] = {
    "_quantizelinear_output", "_dequantizelinear_output", "_quantizelinear",
    "_dequantizelinear", "/quantizelinear", "/dequantizelinear", "/dequantize", "/quantize",
    "_dequantized", "_quantized", "_dequantize", "_quantize", "/output_quant", "_output_quant",
    "_requantized", "_quant", "_dequant", "_int8", "_uint8", "_fp32", "_float", "/fakequant",
    "/identity", "_identity",
};
constexpr absl::string_view kPrefixes[] = {
    "serving_default_", "quantized_", "quant_", "dequant_", "/",
};

// ":0", ":12": TF's output-index suffix.
bool StripOutputIndex(std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  for (size_t i = colon + 1; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  s.resize(colon);
  return true;
}

}  // namespace

NormalizedName NormalizeTensorName(absl::string_view name) {
  NormalizedName out;
  out.name = absl::AsciiStrToLower(name);
  for (bool changed = true; changed;) {
    changed = false;
    const std::string before = out.name;
    if (StripOutputIndex(out.name)) {
      out.stripped.push_back(before.substr(out.name.size()));
      changed = true;
      continue;
    }
    for (absl::string_view suffix : kSuffixes) {
      if (out.name.size() > suffix.size() && absl::EndsWith(out.name, suffix)) {
        out.name.resize(out.name.size() - suffix.size());
        out.stripped.push_back(std::string(suffix));
        changed = true;
        break;
      }
    }
    if (changed) continue;
    for (absl::string_view prefix : kPrefixes) {
      if (out.name.size() > prefix.size() && absl::StartsWith(out.name, prefix)) {
        out.name.erase(0, prefix.size());
        out.stripped.push_back(absl::StrCat(prefix, "…"));
        changed = true;
        break;
      }
    }
  }
  return out;
}

}  // namespace q8::server
