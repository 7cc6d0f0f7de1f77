// Which of oneDNN's implementations of a primitive a plan runs.
//
// oneDNN 2.6 offers a primitive's implementations in a fixed order (newest ISA first) and
// takes the first that accepts the problem, not the fastest. On CPUs with AMX it therefore
// picks AMX int8 kernels even where their 16×64-byte tiles waste most of their work: the
// narrow 1×1 convolutions of MobileNetV2 (16–32 input channels, or 7×7 / 14×14 images) ran
// 2–4× slower on `jit_1x1:avx512_core_amx_int8` than on the VNNI `brgconv_1x1` that comes
// later in the list (measured per layer with `q8run --profile`), while large convolutions
// and matmuls run 2–3× faster on AMX. No static rule separates the two well, so a plan
// measures: each candidate implementation runs a few times on scratch buffers of the plan's
// real shapes, at the plan's thread count, and the fastest is kept. Plans are made once per
// input shape and cached, so this costs only plan time (about 1 ms per layer).
//
// Every implementation a plan may use is first run once on guarded scratch buffers, tuning
// or not: oneDNN 2.6 has kernels that write past their output for some shapes (see
// TryImplementation), and such a one is skipped for the next in the list.
//
// Thread-safety: stateless; safe to call from concurrent plans.
#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

namespace impl_selection {

// At most this many implementations are timed per primitive (oneDNN lists ~3–8 for an
// int8 convolution on AVX-512 machines, the reference ones last).
inline constexpr int kMaxCandidates = 6;

// False for implementations never worth timing: reference loops.
bool IsCandidate(const std::string& impl_name);

// What TryImplementation returns for an implementation that must not be used.
inline constexpr double kUnusable = std::numeric_limits<double>::infinity();

// Runs the implementation `pd` on zero-filled buffers for every argument it takes, each
// between guard zones. kUnusable (and a logged warning) when it wrote outside a buffer:
// oneDNN 2.6's jit_1x1:avx512_core_amx_int8 does for 6×6 images, 12 pixels past its
// output, which in a plan's arena is the next tensor. Otherwise, when `timed`, its cost:
// the fastest of a few executions after the warm-up, in seconds (the minimum, because
// noise on a shared machine only ever adds time); untimed, the warm-up's time.
double TryImplementation(const dnnl::primitive_desc& pd, bool timed);

// Picks among `candidates` (indices; the first is oneDNN's own choice) given their
// `time(candidate)`: the first usable one, replaced by the fastest only when that is at
// least `min_gain` (fraction) faster, so noise does not swap equivalent kernels. -1 when
// none is usable.
int PickFastest(const std::vector<int>& candidates, const std::function<double(int)>& time,
                double min_gain = 0.05);

}  // namespace impl_selection

// A primitive descriptor for `desc` and `attr` at the implementation this plan should use.
// (oneDNN's implementation iterator keeps a pointer to `desc`: it must outlive the call,
// as a caller's local does; the returned descriptor no longer needs it.)
// The implementations worth timing for `desc` and `attr`, oneDNN's first choice first, each
// an independent descriptor, distinct by name, at most kMaxCandidates, no reference ones.
// One pass over the list: a fresh iterator cannot be trusted to reach the same position
// twice (once a primitive of `desc` is in oneDNN's primitive cache, iterators start with
// the cached implementation and then list every implementation again).
template <typename PrimitiveDesc, typename OpDesc>
std::vector<PrimitiveDesc> CandidateImplementations(const OpDesc& desc,
                                                    const dnnl::primitive_attr& attr) {
  std::vector<PrimitiveDesc> candidates;
  std::vector<std::string> names;
  PrimitiveDesc pd(desc, attr, CpuEngine());
  do {
    std::string name = pd.impl_info_str();
    if (!impl_selection::IsCandidate(name) ||
        std::find(names.begin(), names.end(), name) != names.end()) {
      continue;
    }
    dnnl_primitive_desc_t copy = nullptr;
    dnnl::error::wrap_c_api(dnnl_primitive_desc_clone(&copy, pd.get()),
                            "could not copy a primitive descriptor");
    candidates.emplace_back(copy);
    names.push_back(std::move(name));
  } while (static_cast<int>(candidates.size()) < impl_selection::kMaxCandidates && pd.next_impl());
  return candidates;
}

// A primitive descriptor for `desc` and `attr` at the implementation this plan should use.
// (oneDNN's implementation iterator keeps a pointer to `desc`: it must outlive the call,
// as a caller's local does; the returned descriptor no longer needs it.)
template <typename PrimitiveDesc, typename OpDesc>
PrimitiveDesc SelectImplementation(const OpDesc& desc, const dnnl::primitive_attr& attr,
                                   const PlanOptions& options) {
  std::vector<PrimitiveDesc> candidates = CandidateImplementations<PrimitiveDesc>(desc, attr);
  if (candidates.empty()) return PrimitiveDesc(desc, attr, CpuEngine());
  std::vector<int> indices(candidates.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int>(i);
  int chosen = -1;
  if (options.tune_kernels) {
    chosen = impl_selection::PickFastest(indices, [&](int i) {
      return impl_selection::TryImplementation(candidates[i], /*timed=*/true);
    });
  } else {
    for (int i : indices) {
      if (impl_selection::TryImplementation(candidates[i], /*timed=*/false) !=
          impl_selection::kUnusable) {
        chosen = i;
        break;
      }
    }
  }
  return candidates[chosen < 0 ? 0 : chosen];
}

}  // namespace q8::engine::dnnl_backend
