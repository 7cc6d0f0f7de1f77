#include "engine/kernels/impl_selection.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::engine::dnnl_backend::impl_selection {
namespace {

using dnnl::memory;

// Timed executions per candidate after the warm-up; fewer for slow layers, where one run
// already averages out noise and more would make planning slow.
constexpr int kTimedRuns = 3;
constexpr double kSlowRunSeconds = 0.01;

// Bytes of guard pattern around every argument buffer of a trial run.
constexpr size_t kGuardBytes = 64 * 1024;
constexpr unsigned char kGuard = 0xA5;

// Zero-filled memory for one argument, between two guard zones the primitive must not
// touch.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(const memory::desc& md)
      : size_(md.get_size()), bytes_(size_ + 2 * kGuardBytes + 64, kGuard) {
    // Data 64-byte aligned, as oneDNN's own allocations are.
    const auto base = reinterpret_cast<uintptr_t>(bytes_.data()) + kGuardBytes;
    offset_ = kGuardBytes + ((64 - base % 64) % 64);
    std::memset(bytes_.data() + offset_, 0, size_);
    memory_ = memory(md, CpuEngine(), bytes_.data() + offset_);
  }
  const memory& get() const { return memory_; }
  bool GuardsIntact() const {
    for (size_t i = 0; i < offset_; ++i) {
      if (bytes_[i] != kGuard) return false;
    }
    for (size_t i = offset_ + size_; i < bytes_.size(); ++i) {
      if (bytes_[i] != kGuard) return false;
    }
    return true;
  }

 private:
  size_t size_, offset_ = 0;
  std::vector<unsigned char> bytes_;
  memory memory_;
};

// Every argument the primitive reads or writes, on zero-filled guarded memory: the
// operands and scratchpad oneDNN reports (exec_arg_md also covers binary post-op
// sources), plus run-time zero points and output scales, which it does not report.
std::unordered_map<int, GuardedBuffer> TrialArguments(const dnnl::primitive_desc& pd) {
  std::unordered_map<int, GuardedBuffer> args;
  auto add = [&](int arg, const memory::desc& md) {
    if (md.get_size() > 0) args.emplace(arg, GuardedBuffer(md));
  };
  for (int arg : {DNNL_ARG_SRC, DNNL_ARG_SRC_1, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
                  DNNL_ARG_SCRATCHPAD}) {
    add(arg, pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  const dnnl::primitive_attr attr = pd.get_primitive_attr();
  const dnnl::post_ops ops = attr.get_post_ops();
  for (int i = 0; i < ops.len(); ++i) {
    // Only a binary post-op has a source. Asked about another kind (an eltwise ReLU),
    // oneDNN 2.6 answers with the post-op's union read as a memory descriptor: ndims is
    // the bits of its scale 1.0f, and sizing that reads far past it (SIGFPE, or garbage).
    if (ops.kind(i) != dnnl::primitive::kind::binary) continue;
    const int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1;
    add(arg, pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  const memory::desc one_s32({1}, memory::data_type::s32, memory::format_tag::a);
  for (int arg : {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}) {
    int mask = 0;
    std::vector<int32_t> zero_points;
    attr.get_zero_points(arg, mask, zero_points);
    if (mask == 0 && zero_points.size() == 1 && zero_points[0] == DNNL_RUNTIME_S32_VAL) {
      add(DNNL_ARG_ATTR_ZERO_POINTS | arg, one_s32);
    }
  }
  int mask = 0;
  std::vector<float> scales;
  attr.get_output_scales(mask, scales);
  if (mask == 0 && scales.size() == 1 && std::isnan(scales[0])) {  // DNNL_RUNTIME_F32_VAL
    const memory::desc one_f32({1}, memory::data_type::f32, memory::format_tag::a);
    add(DNNL_ARG_ATTR_OUTPUT_SCALES, one_f32);
    *static_cast<float*>(args.at(DNNL_ARG_ATTR_OUTPUT_SCALES).get().get_data_handle()) = 1.f;
  }
  return args;
}

// "src u8 [1,64,6,6] -> dst s8 [1,128,6,6]": enough to reproduce the problem.
std::string DescribeShapes(const dnnl::primitive_desc& pd) {
  auto one = [](const memory::desc& md) {
    return absl::StrCat(dnnl_dt2str(static_cast<dnnl_data_type_t>(md.data_type())), " [",
                        absl::StrJoin(md.dims(), ","), "]");
  };
  return absl::StrCat("src ", one(pd.src_desc()), " -> dst ", one(pd.dst_desc()));
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
      return "an attribute argument";
  }
}

}  // namespace

bool IsCandidate(const std::string& impl_name) { return impl_name.rfind("ref", 0) != 0; }

double TryImplementation(const dnnl::primitive_desc& pd, bool timed) {
  using clock = std::chrono::steady_clock;
  const dnnl::primitive primitive(pd);  // JIT-compiles; the primitive cache keeps it
  const std::unordered_map<int, GuardedBuffer> buffers = TrialArguments(pd);
  std::unordered_map<int, memory> args;
  for (const auto& [arg, buffer] : buffers) args.emplace(arg, buffer.get());
  dnnl::stream stream(CpuEngine());
  auto run = [&] {
    const auto start = clock::now();
    primitive.execute(stream, args);
    stream.wait();
    return std::chrono::duration<double>(clock::now() - start).count();
  };
  double best = run();  // warm-up: caches, page faults of the fresh buffers
  for (const auto& [arg, buffer] : buffers) {
    if (!buffer.GuardsIntact()) {
      spdlog::warn(
          "oneDNN implementation {} writes outside its {} buffer for this {} ({}; a oneDNN bug); "
          "using another implementation",
          pd.impl_info_str(), ArgName(arg),
          dnnl_prim_kind2str(static_cast<dnnl_primitive_kind_t>(pd.get_kind())),
          DescribeShapes(pd));
      return kUnusable;
    }
  }
  if (!timed) return best;
  if (best > kSlowRunSeconds) return std::min(best, run());
  best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kTimedRuns; ++i) best = std::min(best, run());
  return best;
}

int PickFastest(const std::vector<int>& candidates, const std::function<double(int)>& time,
                double min_gain) {
  int first = -1, best = -1;
  double first_time = kUnusable, best_time = kUnusable;
  for (int c : candidates) {
    const double t = time(c);
    if (t == kUnusable) continue;
    if (first < 0) {
      first = best = c;
      first_time = best_time = t;
    } else if (t < best_time) {
      best = c;
      best_time = t;
    }
  }
  if (first < 0) return -1;
  return best_time < first_time * (1.0 - min_gain) ? best : first;
}

}  // namespace q8::engine::dnnl_backend::impl_selection
