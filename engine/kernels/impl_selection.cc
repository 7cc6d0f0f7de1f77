#include "engine/kernels/impl_selection.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::engine::dnnl_backend::impl_selection {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// Timed rounds (one run of every candidate each) after the first run.
constexpr int kTimedRounds = 3;

// Bytes of guard pattern around every argument buffer of a trial run.
constexpr size_t kGuardBytes = 64 * 1024;
constexpr unsigned char kGuard = 0xA5;

// Seeded random values of data type `type` into `n` bytes at `data`: the same bytes for
// the same (n, seed), whichever implementation asks. splitmix64, 8 bytes a step: a trial of
// a batch-64 MobileNet layer fills ~80 MB, which a per-byte std::mt19937 made take seconds.
void FillRandom(dt type, uint64_t seed, void* data, size_t n) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  switch (type) {
    case dt::u8:
    case dt::s8: {
      auto* p = static_cast<unsigned char*>(data);
      size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        const uint64_t v = next();
        std::memcpy(p + i, &v, 8);
      }
      for (const uint64_t v = next(); i < n; ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * (i % 8)));
      break;
    }
    case dt::s32: {  // [-1000, 1000]
      auto* p = static_cast<int32_t*>(data);
      for (size_t i = 0; i < n / sizeof(int32_t); ++i)
        p[i] = static_cast<int32_t>(next() % 2001) - 1000;
      break;
    }
    case dt::f32: {  // [-4, 4)
      auto* p = static_cast<float*>(data);
      for (size_t i = 0; i < n / sizeof(float); ++i) {
        p[i] = static_cast<float>(next() >> 40) * (8.f / 16777216.f) - 4.f;
      }
      break;
    }
    default:
      std::memset(data, 0, n);
  }
}

// Memory for one argument between two guard zones the primitive must not touch. The data
// itself is left uninitialised for the caller to fill: for a batch-64 MobileNet layer every
// pass over these buffers is tens of megabytes.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(const memory::desc& md)
      : size_(md.get_size()),
        total_(size_ + 2 * kGuardBytes + 64),
        bytes_(new unsigned char[total_]) {
    // Data 64-byte aligned, as oneDNN's own allocations are.
    const auto base = reinterpret_cast<uintptr_t>(bytes_.get()) + kGuardBytes;
    offset_ = kGuardBytes + ((64 - base % 64) % 64);
    std::memset(bytes_.get(), kGuard, offset_);
    std::memset(bytes_.get() + offset_ + size_, kGuard, total_ - offset_ - size_);
    memory_ = memory(md, CpuEngine(), data());
  }
  void* data() { return bytes_.get() + offset_; }
  const void* data() const { return bytes_.get() + offset_; }
  size_t size() const { return size_; }
  const memory& get() const { return memory_; }
  bool GuardsIntact() const {
    for (size_t i = 0; i < offset_; ++i) {
      if (bytes_[i] != kGuard) return false;
    }
    for (size_t i = offset_ + size_; i < total_; ++i) {
      if (bytes_[i] != kGuard) return false;
    }
    return true;
  }

 private:
  size_t size_, total_, offset_ = 0;
  std::unique_ptr<unsigned char[]> bytes_;
  memory memory_;
};

// The plain (row-major) layout of `md`'s dims and type.
memory::desc PlainDesc(const memory::desc& md) {
  static constexpr memory::format_tag kPlain[] = {
      memory::format_tag::a,     memory::format_tag::a,    memory::format_tag::ab,
      memory::format_tag::abc,   memory::format_tag::abcd, memory::format_tag::abcde,
      memory::format_tag::abcdef};
  const memory::dims dims = md.dims();
  return memory::desc(dims, md.data_type(), kPlain[std::min<size_t>(dims.size(), 6)]);
}

// Every argument the primitive reads or writes, on guarded memory with seeded random
// operands: the operands and scratchpad oneDNN reports (exec_arg_md also covers binary
// post-op sources), plus run-time zero points and output scales, which it does not report.
// Weights are generated in their plain layout and reordered into the implementation's, so
// every implementation multiplies by the same logical weights.
std::unordered_map<int, GuardedBuffer> TrialArguments(const dnnl::primitive_desc& pd) {
  std::unordered_map<int, GuardedBuffer> args;
  auto add = [&](int arg, const memory::desc& md) -> GuardedBuffer* {
    if (md.get_size() == 0) return nullptr;
    GuardedBuffer& b = args.emplace(arg, GuardedBuffer(md)).first->second;
    if (arg == DNNL_ARG_SCRATCHPAD) {
      std::memset(b.data(), 0, b.size());
    } else {
      FillRandom(md.data_type(), arg, b.data(), b.size());
    }
    return &b;
  };
  for (int arg : {DNNL_ARG_SRC, DNNL_ARG_SRC_1, DNNL_ARG_BIAS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD}) {
    add(arg, pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  const memory::desc weights = pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_WEIGHTS);
  if (GuardedBuffer* w = add(DNNL_ARG_WEIGHTS, weights)) {
    const memory::desc plain_md = PlainDesc(weights);
    std::vector<unsigned char> plain(plain_md.get_size());
    FillRandom(plain_md.data_type(), DNNL_ARG_WEIGHTS, plain.data(), plain.size());
    memory from(plain_md, CpuEngine(), plain.data());
    dnnl::stream s(CpuEngine());
    dnnl::reorder(from, w->get()).execute(s, from, const_cast<memory&>(w->get()));
    s.wait();
  }
  const dnnl::primitive_attr attr = pd.get_primitive_attr();
  const dnnl::post_ops ops = attr.get_post_ops();
  for (int i = 0; i < ops.len(); ++i) {
    // Binary post-ops only: for any other kind, oneDNN 2.6 answers this query with the
    // bytes of that post-op's parameters read as a memory descriptor (a union member).
    if (ops.kind(i) != dnnl::primitive::kind::binary) continue;
    const int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1;
    add(arg, pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  for (int arg : {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}) {
    int mask = 0;
    std::vector<int32_t> zero_points;
    attr.get_zero_points(arg, mask, zero_points);
    if (mask == 0 && zero_points.size() == 1 && zero_points[0] == DNNL_RUNTIME_S32_VAL) {
      GuardedBuffer* b =
          add(DNNL_ARG_ATTR_ZERO_POINTS | arg, memory::desc({1}, dt::s32, memory::format_tag::a));
      *static_cast<int32_t*>(b->data()) = 3;
    }
  }
  int mask = 0;
  std::vector<float> scales;
  attr.get_output_scales(mask, scales);
  if (mask == 0 && scales.size() == 1 && std::isnan(scales[0])) {  // DNNL_RUNTIME_F32_VAL
    GuardedBuffer* b =
        add(DNNL_ARG_ATTR_OUTPUT_SCALES, memory::desc({1}, dt::f32, memory::format_tag::a));
    *static_cast<float*>(b->data()) = 1.f;
  }
  return args;
}

// "src u8 [1,64,6,6] -> dst s8 [1,128,6,6]": enough to reproduce a problem.
std::string DescribeShapes(const dnnl::primitive_desc& pd) {
  auto one = [](const memory::desc& md) {
    return absl::StrCat(dnnl_dt2str(static_cast<dnnl_data_type_t>(md.data_type())), " [",
                        absl::StrJoin(md.dims(), ","), "]");
  };
  return absl::StrCat(dnnl_prim_kind2str(static_cast<dnnl_primitive_kind_t>(pd.get_kind())),
                      " src ", one(pd.src_desc()), " -> dst ", one(pd.dst_desc()));
}

const char* ArgName(int arg) {
  switch (arg) {
    case DNNL_ARG_SRC:
      return "src";
    case DNNL_ARG_WEIGHTS:
      return "weights";
    case DNNL_ARG_BIAS:
      return "bias";
    case DNNL_ARG_DST:
      return "dst";
    case DNNL_ARG_SCRATCHPAD:
      return "scratchpad";
    default:
      return "attribute argument";
  }
}

template <typename T>
bool IntegersAgree(absl::Span<const unsigned char> a, absl::Span<const unsigned char> b) {
  const T* x = reinterpret_cast<const T*>(a.data());
  const T* y = reinterpret_cast<const T*>(b.data());
  for (size_t i = 0; i < a.size() / sizeof(T); ++i) {
    if (std::abs(static_cast<int64_t>(x[i]) - static_cast<int64_t>(y[i])) > 1) return false;
  }
  return true;
}

class GuardedTrial final : public Trial {
 public:
  explicit GuardedTrial(const dnnl::primitive_desc& pd)
      : primitive_(pd),  // JIT-compiles; the primitive cache keeps it
        buffers_(TrialArguments(pd)),
        stream_(CpuEngine()) {
    for (const auto& [arg, buffer] : buffers_) args_.emplace(arg, buffer.get());
    first_seconds_ = Run();
    for (const auto& [arg, buffer] : buffers_) {
      if (!buffer.GuardsIntact()) {
        spdlog::warn(
            "oneDNN implementation {} writes outside its {} buffer ({}; a oneDNN bug): using "
            "another implementation",
            pd.impl_info_str(), ArgName(arg), DescribeShapes(pd));
        return;
      }
    }
    in_bounds_ = true;
    if (auto dst = buffers_.find(DNNL_ARG_DST); dst != buffers_.end()) {
      dst_ = absl::MakeConstSpan(static_cast<const unsigned char*>(dst->second.data()),
                                 dst->second.size());
    }
  }

  bool in_bounds() const override { return in_bounds_; }
  absl::Span<const unsigned char> dst() const override { return dst_; }
  double first_seconds() const override { return first_seconds_; }
  double Run() override {
    const auto start = std::chrono::steady_clock::now();
    primitive_.execute(stream_, args_);
    stream_.wait();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  const dnnl::primitive primitive_;
  const std::unordered_map<int, GuardedBuffer> buffers_;
  std::unordered_map<int, memory> args_;
  dnnl::stream stream_;
  bool in_bounds_ = false;
  double first_seconds_ = 0;
  absl::Span<const unsigned char> dst_;
};

}  // namespace

bool IsCandidate(const std::string& impl_name, const std::string& first_name) {
  if (impl_name.rfind("ref", 0) == 0 || impl_name.find("gemm") != std::string::npos) {
    return false;
  }
  return first_name.find("avx512") == std::string::npos ||
         impl_name.find("avx512") != std::string::npos;
}

std::unique_ptr<Trial> StartTrial(const dnnl::primitive_desc& pd) {
  return std::make_unique<GuardedTrial>(pd);
}

bool OutputsAgree(const memory::desc& dst, absl::Span<const unsigned char> reference,
                  absl::Span<const unsigned char> candidate) {
  if (reference.size() != candidate.size()) return false;
  switch (dst.data_type()) {
    case dt::u8:
      return IntegersAgree<uint8_t>(reference, candidate);
    case dt::s8:
      return IntegersAgree<int8_t>(reference, candidate);
    case dt::s32:
      return IntegersAgree<int32_t>(reference, candidate);
    case dt::f32: {
      const float* x = reinterpret_cast<const float*>(reference.data());
      const float* y = reinterpret_cast<const float*>(candidate.data());
      const size_t n = reference.size() / sizeof(float);
      float largest = 0.f;
      for (size_t i = 0; i < n; ++i) largest = std::max(largest, std::abs(x[i]));
      const float tolerance = 1e-4f * largest + 1e-6f;
      for (size_t i = 0; i < n; ++i) {
        if (!(std::abs(x[i] - y[i]) <= tolerance)) return false;  // NaN disagrees too
      }
      return true;
    }
    default:
      return std::equal(reference.begin(), reference.end(), candidate.begin());
  }
}

int SelectFastest(absl::Span<const std::unique_ptr<Trial>> trials,
                  const std::function<std::string(int i)>& name, const memory::desc& dst,
                  double min_gain) {
  const int n = static_cast<int>(trials.size());
  int reference = -1;
  std::vector<int> usable;
  for (int i = 0; i < n; ++i) {
    if (!trials[i]->in_bounds()) continue;
    if (reference < 0) {
      reference = i;
    } else if (!OutputsAgree(dst, trials[reference]->dst(), trials[i]->dst())) {
      spdlog::warn(
          "oneDNN implementation {} computes other results than {} on the same operands: not "
          "using it",
          name(i), name(reference));
      continue;
    }
    usable.push_back(i);
  }
  if (usable.size() < 2) return reference;
  const int rounds = kTimedRounds;
  std::vector<double> best(n, std::numeric_limits<double>::infinity());
  for (int r = 0; r < rounds; ++r) {
    for (int i : usable) best[i] = std::min(best[i], trials[i]->Run());
  }
  int fastest = reference;
  for (int i : usable) {
    if (best[i] < best[fastest]) fastest = i;
  }
  return best[fastest] < best[reference] * (1.0 - min_gain) ? fastest : reference;
}

}  // namespace q8::engine::dnnl_backend::impl_selection
