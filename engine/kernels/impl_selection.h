// Which of oneDNN's implementations of a primitive a plan runs.
//
// Trust, but verify: every implementation a plan uses is first run once on guarded buffers
// of the plan's shapes. oneDNN 2.6 has kernels that write past their output for some shapes
// (jit_1x1:avx512_core_amx_int8 on 6×6 images, see Trial), into the next tensor of the
// plan's arena; such a one is passed over for the next in oneDNN's list.
//
// Optionally (PlanOptions::tune_kernels) a plan also times a few candidates and keeps the
// fastest. oneDNN 2.6 offers implementations in a fixed order (newest ISA first) and takes
// the first that accepts the problem, not the fastest: on AMX CPUs, AMX kernels even where
// their 16×64-byte tiles waste most of their work (a MobileNetV2 1×1 convolution ran 2–4×
// slower on jit_1x1 AMX than on the VNNI brgconv_1x1 further down). Candidates run in
// turns on scratch buffers of the plan's real shapes, at the plan's thread count; the
// minimum over rounds counts; another kernel must be 10% faster than oneDNN's choice and
// compute the same results on the same seeded operands. It is off by default because a
// layer timed alone is not the layer inside the pipeline: measured, it helps some models
// and settings and hurts others (LoadOptions::tune_kernels has the numbers).
//
// Thread-safety: stateless; safe to call from concurrent plans.
#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

namespace impl_selection {

// At most this many implementations are tried per primitive.
inline constexpr int kMaxCandidates = 4;

// Layers whose first trial run takes longer than this (seconds, page faults included) keep
// oneDNN's choice untimed.
inline constexpr double kLongestTunedRun = 0.001;

// Whether `impl_name` is worth trying after oneDNN's first choice `first_name`: never a
// reference loop or an im2col "gemm" kernel (1.1 ms for a depthwise convolution the VNNI
// kernels do in 0.05), and, where the first choice is an AVX-512 kernel, only other
// AVX-512 ones (AMX and VNNI variants): older-ISA kernels are never faster there, and a
// noisy measurement must not be able to pick one.
bool IsCandidate(const std::string& impl_name, const std::string& first_name);

// One implementation set up for trial runs: its primitive and seeded random operands, each
// buffer between guard zones. Operands depend only on their descriptors and the weights'
// logical dims (weights are generated plain and reordered into the implementation's
// layout), so every implementation of one primitive sees the same numbers.
class Trial {
 public:
  virtual ~Trial() = default;
  // False when the first run wrote outside one of its buffers (a warning is logged):
  // oneDNN 2.6's jit_1x1:avx512_core_amx_int8 does for 6×6 images, 12 pixels past its
  // output, which in a plan's arena is the next tensor.
  virtual bool in_bounds() const = 0;
  // The first run's output bytes, laid out as the primitive's dst descriptor (the trial's
  // own buffer: later runs rewrite the same values).
  virtual absl::Span<const unsigned char> dst() const = 0;
  // The first run's time (it includes the page faults of fresh buffers).
  virtual double first_seconds() const = 0;
  // Runs once more; seconds.
  virtual double Run() = 0;
};

// Makes the trial of `pd` and runs it once.
std::unique_ptr<Trial> StartTrial(const dnnl::primitive_desc& pd);

// True when `candidate` computes what `reference` computed (outputs laid out as `dst`):
// integers within 1 (rounding ties), floats within 1e-4 of the largest |reference| value.
bool OutputsAgree(const dnnl::memory::desc& dst, absl::Span<const unsigned char> reference,
                  absl::Span<const unsigned char> candidate);

// The tuned choice among started trials (index 0 is oneDNN's first choice): of those in
// bounds whose output agrees with the first in-bounds one's, the fastest by the minimum over
// interleaved rounds of runs (round-robin, so a burst of noise slows every candidate alike;
// the minimum, because noise only ever adds time). The first in-bounds one is kept unless
// another is at least `min_gain` (fraction) faster. -1 when none is in bounds.
int SelectFastest(absl::Span<const std::unique_ptr<Trial>> trials,
                  const std::function<std::string(int i)>& name, const dnnl::memory::desc& dst,
                  double min_gain = 0.1);

}  // namespace impl_selection

// The implementations worth trying for `desc` and `attr`, oneDNN's first choice first, each
// an independent descriptor, distinct by name, at most kMaxCandidates (see IsCandidate).
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
    if (name.rfind("ref", 0) == 0) continue;
    if (!names.empty() && (!impl_selection::IsCandidate(name, names.front()) ||
                           std::find(names.begin(), names.end(), name) != names.end())) {
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
// untuned, the first candidate that stays in bounds; tuned, SelectFastest's choice (for
// layers under kLongestTunedRun).
// (oneDNN's implementation iterator keeps a pointer to `desc`: it must outlive the call,
// as a caller's local does; the returned descriptor no longer needs it.)
template <typename PrimitiveDesc, typename OpDesc>
PrimitiveDesc SelectImplementation(const OpDesc& desc, const dnnl::primitive_attr& attr,
                                   const PlanOptions& options) {
  std::vector<PrimitiveDesc> candidates = CandidateImplementations<PrimitiveDesc>(desc, attr);
  if (candidates.empty()) return PrimitiveDesc(desc, attr, CpuEngine());
  if (!options.tune_kernels || candidates.size() == 1) {
    for (const PrimitiveDesc& pd : candidates) {
      if (impl_selection::StartTrial(pd)->in_bounds()) return pd;
    }
    return candidates.front();
  }
  // oneDNN's choice first. A layer that takes milliseconds is not where its choice goes
  // wrong (large convolutions and matmuls are AMX's strength), and trying the others would
  // cost seconds of planning for a large batch: keep it.
  std::vector<std::unique_ptr<impl_selection::Trial>> trials;
  trials.push_back(impl_selection::StartTrial(candidates.front()));
  if (trials.front()->in_bounds() &&
      trials.front()->first_seconds() > impl_selection::kLongestTunedRun) {
    return candidates.front();
  }
  for (size_t i = 1; i < candidates.size(); ++i) {
    trials.push_back(impl_selection::StartTrial(candidates[i]));
  }
  const int chosen = impl_selection::SelectFastest(
      trials, [&](int i) { return std::string(candidates[i].impl_info_str()); },
      candidates.front().dst_desc());
  return candidates[chosen < 0 ? 0 : chosen];
}

}  // namespace q8::engine::dnnl_backend
