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
// Trust, but verify. Every implementation a plan may use is first run on guarded buffers,
// tuning or not: oneDNN 2.6 has kernels that write past their output for some shapes (see
// RunTrial), and such a one is passed over for the next in the list. And a tuned choice
// other than oneDNN's own must compute what oneDNN's own computes, on the same seeded
// random operands, or it is not used: a rarely chosen kernel gets no benefit of the doubt.
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

// At most this many implementations are timed per primitive (oneDNN lists ~3–12 for an
// int8 convolution on AVX-512 machines, the reference ones last).
inline constexpr int kMaxCandidates = 6;

// False for implementations never worth timing: reference loops.
bool IsCandidate(const std::string& impl_name);

// What a trial of one implementation found.
struct TrialResult {
  // False when it wrote outside one of its buffers (a logged warning says which): oneDNN
  // 2.6's jit_1x1:avx512_core_amx_int8 does for 6×6 images, 12 pixels past its output,
  // which in a plan's arena is the next tensor.
  bool in_bounds = false;
  // When timed: the fastest of a few executions after the warm-up, in seconds (the
  // minimum, because noise on a shared machine only ever adds time).
  double seconds = std::numeric_limits<double>::infinity();
  std::vector<unsigned char> dst;  // the output's bytes, laid out as pd.dst_desc()
};

// Runs implementation `pd` on seeded random operands, each buffer between guard zones.
// Operands depend only on their descriptors and the weights' logical dims (weights are
// generated plain and reordered into pd's layout), so every implementation of one
// primitive sees the same numbers and their outputs can be compared.
TrialResult RunTrial(const dnnl::primitive_desc& pd, bool timed);

// True when `candidate` computes what `reference` computed (outputs laid out as `dst`):
// integers within 1 (rounding ties), floats within 1e-4 of the largest |reference| value.
bool OutputsAgree(const dnnl::memory::desc& dst, const std::vector<unsigned char>& reference,
                  const std::vector<unsigned char>& candidate);

// What `time` returns for an implementation that must not be used.
inline constexpr double kUnusable = std::numeric_limits<double>::infinity();

// Picks among `candidates` (indices; the first is oneDNN's own choice) given their
// `time(candidate)`: the first usable one, replaced by the fastest only when that is at
// least `min_gain` (fraction) faster, so noise does not swap equivalent kernels. -1 when
// none is usable.
int PickFastest(const std::vector<int>& candidates, const std::function<double(int)>& time,
                double min_gain = 0.05);

// Picks among `trial(i)` for candidates 0..n-1 as SelectImplementation does; see there.
int Select(int n, const std::function<TrialResult(int i, bool timed)>& trial,
           const std::function<std::string(int i)>& name, const dnnl::memory::desc& dst, bool tune);

}  // namespace impl_selection

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

// A primitive descriptor for `desc` and `attr` at the implementation this plan should use:
// untuned, the first candidate that stays in bounds; tuned, the fastest candidate that stays
// in bounds and agrees with the first one that does (which stands in for oneDNN's choice).
// (oneDNN's implementation iterator keeps a pointer to `desc`: it must outlive the call,
// as a caller's local does; the returned descriptor no longer needs it.)
template <typename PrimitiveDesc, typename OpDesc>
PrimitiveDesc SelectImplementation(const OpDesc& desc, const dnnl::primitive_attr& attr,
                                   const PlanOptions& options) {
  std::vector<PrimitiveDesc> candidates = CandidateImplementations<PrimitiveDesc>(desc, attr);
  if (candidates.empty()) return PrimitiveDesc(desc, attr, CpuEngine());
  const int chosen = impl_selection::Select(
      static_cast<int>(candidates.size()),
      [&](int i, bool timed) { return impl_selection::RunTrial(candidates[i], timed); },
      [&](int i) { return std::string(candidates[i].impl_info_str()); },
      candidates.front().dst_desc(), options.tune_kernels);
  return candidates[chosen < 0 ? 0 : chosen];
}

}  // namespace q8::engine::dnnl_backend
