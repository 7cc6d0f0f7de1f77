#include "engine/kernels/window_geometry.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace q8::engine::dnnl_backend {
namespace {

// An attribute of `count` values, `fallback` repeated when absent (empty).
absl::StatusOr<std::vector<int64_t>> Fill(std::vector<int64_t> v, const char* key, size_t count,
                                          int64_t fallback, int64_t min_value) {
  if (v.empty()) v.assign(count, fallback);
  if (v.size() != count) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " has ", v.size(), " values, expected ", count));
  }
  for (int64_t x : v) {
    if (x < min_value) {
      return absl::InvalidArgumentError(absl::StrCat(key, " has a value ", x, " below ", min_value));
    }
  }
  return v;
}

}  // namespace

absl::StatusOr<WindowAttrs> WindowAttrs::FromNode(const ir::Node& node,
                                                  std::vector<int64_t> default_kernel) {
  WindowAttrs a;
  a.strides = node.GetInts("strides");
  a.dilations = node.GetInts("dilations");
  a.pads = node.GetInts("pads");
  a.auto_pad = node.GetString("auto_pad", "NOTSET");
  if (a.auto_pad != "NOTSET" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER" &&
      a.auto_pad != "VALID") {
    return absl::InvalidArgumentError(absl::StrCat(
        "auto_pad '", a.auto_pad, "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"));
  }
  a.ceil_mode = node.GetInt("ceil_mode", 0) != 0;
  std::vector<int64_t> kernel = node.GetInts("kernel_shape", std::move(default_kernel));
  if (kernel.empty()) return a;  // resolved at plan time from the runtime weights
  return a.Resolve(std::move(kernel));
}

absl::StatusOr<WindowAttrs> WindowAttrs::Resolve(std::vector<int64_t> kernel_shape) const {
  if (!kernel.empty()) return *this;
  WindowAttrs a = *this;
  a.kernel = std::move(kernel_shape);
  if (a.kernel.empty()) return absl::InvalidArgumentError("kernel_shape is required");
  const size_t r = a.kernel.size();
  for (int64_t k : a.kernel) {
    if (k < 1) return absl::InvalidArgumentError(absl::StrCat("kernel_shape has a value ", k));
  }
  auto strides = Fill(a.strides, "strides", r, 1, 1);
  auto dilations = Fill(a.dilations, "dilations", r, 1, 1);
  auto pads = Fill(a.pads, "pads", 2 * r, 0, 0);
  for (const auto* s : {&strides, &dilations, &pads}) {
    if (!s->ok()) return s->status();
  }
  a.strides = *std::move(strides);
  a.dilations = *std::move(dilations);
  a.pads = *std::move(pads);
  return a;
}

absl::StatusOr<WindowPlan> PlanWindow(const WindowAttrs& a, absl::Span<const int64_t> in) {
  if (in.size() != a.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("input has ", in.size(),
                                                   " spatial dims, the window ", a.rank()));
  }
  WindowPlan p;
  for (size_t i = 0; i < a.rank(); ++i) {
    const int64_t s = a.strides[i];
    const int64_t extent = (a.kernel[i] - 1) * a.dilations[i] + 1;
    int64_t pb = 0, pe = 0, out = 0;
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      out = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + extent - in[i]);
      pb = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (a.auto_pad == "NOTSET") {
        pb = a.pads[i];
        pe = a.pads[i + a.rank()];
      }
      const int64_t span = in[i] + pb + pe - extent;
      if (span < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "window of extent ", extent, " does not fit spatial dim ", i, " of size ", in[i],
            " with pads ", pb, "+", pe));
      }
      out = (a.ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (a.ceil_mode && (out - 1) * s >= in[i] + pb) --out;
    }
    p.out.push_back(out);
    p.strides.push_back(s);
    p.kernel.push_back(a.kernel[i]);
    p.dilation.push_back(a.dilations[i] - 1);
    p.pad_l.push_back(pb);
    // oneDNN wants out = (in + pad_l + pad_r - extent) / s + 1 exactly.
    p.pad_r.push_back(std::max(pe, (out - 1) * s + extent - in[i] - pb));
  }
  return p;
}

}  // namespace q8::engine::dnnl_backend
