// q8run: load a model (.onnx, GraphDef .pb or .tflite) with the engine alone, feed seeded
// random inputs, time Run().
//
//   q8run MODEL [--threads T] [--batch N] [--iters K] [--warmup W] [--seed S]
//         [--inputs DIR] [--save DIR] [--profile] [--peak_gops_per_thread G]
//
// Prints one JSON line with the fields of ../shared/bench/ort/run.js, so the two can be
// tabulated side by side: {model, format, threads, batch, p50_ms, p90_ms, p99_ms, mean_ms,
// throughput_per_s, load_ms, first_run_ms, runtime}; first_run_ms includes planning for
// these shapes (what a server pays on the first request of a new batch size). Percentiles
// use the same index rule as run.js.
//
// Inputs: float tensors get seeded N(0,1) values. Integer tensors (the int8 inputs of a
// full-integer TFLite model) get seeded values uniform over their dtype's range, drawn as
// ../shared/bench/tflite/run.js draws them (xorshift32, one draw per element, inputs in
// order), so `q8run M.tflite --seed S` feeds the int8 inputs `run.js M.tflite --seed S`
// feeds. (All-zero int8 inputs would be one constant value, not an image.)
// --inputs DIR reads DIR/<input name>.npy instead (with '/', ':' and '\' in the name
// written as '_', as run.js names its files); --save DIR writes the inputs and the outputs
// of the last timed run as DIR/<name>.npy and DIR/<name>.out.npy, for comparisons with the
// reference runners' --save directories.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "client/npy.h"
#include "engine/engine.h"

ABSL_FLAG(int, threads, 1, "threads per Run (oneDNN/OpenMP team size)");
ABSL_FLAG(int, batch, 1, "size of the symbolic batch dimension (dim 0)");
ABSL_FLAG(int, iters, 50, "timed runs");
ABSL_FLAG(int, warmup, 5, "untimed runs first (plans are built on the first)");
ABSL_FLAG(int, seed, 1,
          "seed of the random inputs: N(0,1) floats, integers uniform over their dtype's range "
          "(the generator of ../shared/bench/{ort,tflite}/run.js)");
ABSL_FLAG(std::string, inputs, "", "read the inputs from DIR/<input name>.npy instead");
ABSL_FLAG(std::string, save, "", "write the inputs and the last run's outputs as .npy to DIR");
ABSL_FLAG(bool, profile, false, "also print per-step timings (stderr)");
ABSL_FLAG(bool, tune_kernels, false,
          "time oneDNN's candidate implementations per layer at plan time, keep the fastest "
          "(false: oneDNN's first choice)");
ABSL_FLAG(double, peak_gops_per_thread, 850,
          "int8 peak of one core, for --profile's %-of-peak column (../shared/bench/RESULTS.md: "
          "oneDNN u8s8 2048^3 matmul, ~850 GOPS per core on the AVX-512 VNNI machine)");

namespace {

constexpr char kUsage[] =
    "usage: q8run MODEL [--threads T] [--batch N] [--iters K] [--warmup W] [--seed S]\n"
    "             [--inputs DIR] [--save DIR] [--profile] [--peak_gops_per_thread G]\n"
    "MODEL: an ONNX model (.onnx), a TensorFlow GraphDef (.pb) or a TensorFlow Lite model\n"
    "(.tflite). Prints one JSON line: model, format, threads, batch, p50/p90/p99/mean ms,\n"
    "throughput. Inputs are seeded: N(0,1) floats, integers (e.g. a full-integer .tflite\n"
    "model's int8 input) uniform over their range, as ../shared/bench/tflite/run.js draws\n"
    "them for the same --seed.";

// The input generator of ../shared/bench/{ort,tflite}/run.js: xorshift32 with uniform
// draws (s + 0.5) / 2^32, Box-Muller normals from two draws, integers lo + floor(u·(hi-lo+1)).
class RunJsRandom {
 public:
  explicit RunJsRandom(int seed)
      : s_(static_cast<uint32_t>(seed) ? static_cast<uint32_t>(seed) : 1) {}
  double Uniform() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 17;
    s_ ^= s_ << 5;
    return (static_cast<double>(s_) + 0.5) / 4294967296.0;
  }
  double Normal() {
    const double u1 = Uniform(), u2 = Uniform();  // in run.js's evaluation order
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  int64_t Integer(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(std::floor(Uniform() * static_cast<double>(hi - lo + 1)));
  }

 private:
  uint32_t s_;
};

template <typename T>
void FillIntegers(q8::engine::Tensor& t, RunJsRandom& rng, int64_t lo, int64_t hi) {
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    t.data_as<T>()[i] = static_cast<T>(rng.Integer(lo, hi));
  }
}

// Seeded values for one input; int64 (indices, shapes in ONNX models) stays zero.
void FillInput(q8::engine::Tensor& t, RunJsRandom& rng) {
  using q8::engine::DType;
  switch (t.dtype()) {
    case DType::kFloat32:
      for (int64_t i = 0; i < t.num_elements(); ++i) {
        t.data_as<float>()[i] = static_cast<float>(rng.Normal());
      }
      break;
    case DType::kInt8:
      FillIntegers<int8_t>(t, rng, -128, 127);
      break;
    case DType::kUint8:
      FillIntegers<uint8_t>(t, rng, 0, 255);
      break;
    case DType::kInt32:  // run.js's range for int32 inputs
      FillIntegers<int32_t>(t, rng, -1000, 1000);
      break;
    case DType::kBool:
      FillIntegers<uint8_t>(t, rng, 0, 1);
      break;
    default:
      break;
  }
}

// run.js's file name for a tensor name.
std::string FileName(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == ':' || c == '\\') c = '_';
  }
  return name;
}

absl::Status WriteNpy(const std::string& path, const q8::engine::Tensor& t) {
  q8::client::HostTensor h;
  h.dtype = q8::engine::DTypeName(t.dtype());
  h.shape.assign(t.shape().begin(), t.shape().end());
  h.data.assign(static_cast<const char*>(t.data()), t.byte_size());
  return q8::client::WriteNpyFile(path, h);
}

absl::StatusOr<q8::engine::Tensor> ReadNpy(const std::string& path,
                                           const q8::engine::TensorInfo& info) {
  auto h = q8::client::ReadNpyFile(path);
  if (!h.ok()) return h.status();
  if (h->dtype != q8::engine::DTypeName(info.dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s holds %s; input %s is %s", path, h->dtype,
                                                      info.name,
                                                      q8::engine::DTypeName(info.dtype)));
  }
  q8::engine::Tensor t(info.dtype, q8::engine::Shape(h->shape.begin(), h->shape.end()));
  if (t.byte_size() != h->data.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: size mismatch", path));
  }
  std::memcpy(t.data(), h->data.data(), h->data.size());
  return t;
}

double Percentile(const std::vector<double>& sorted, double p) {
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, i)];
}

// Median time of each step over `runs` profiled runs; steps keep their plan order.
int PrintProfile(const q8::engine::Model& model, q8::engine::RunContext& ctx,
                 const std::vector<q8::engine::TensorView>& views, int runs, int threads) {
  ctx.set_profiling(true);
  std::vector<q8::engine::StepProfile> steps;
  std::vector<std::vector<double>> seconds;
  for (int i = 0; i < runs; ++i) {
    auto out = model.Run(ctx, views);
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
    if (steps.empty()) {
      steps = ctx.profile();
      seconds.resize(steps.size());
    }
    for (size_t s = 0; s < steps.size() && s < ctx.profile().size(); ++s) {
      seconds[s].push_back(ctx.profile()[s].seconds);
    }
  }
  ctx.set_profiling(false);
  double total = 0;
  std::vector<double> median(steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    std::sort(seconds[s].begin(), seconds[s].end());
    median[s] = Percentile(seconds[s], 50);
    total += median[s];
  }
  const double peak = absl::GetFlag(FLAGS_peak_gops_per_thread) * std::max(threads, 1);
  std::fprintf(stderr, "%-4s %-40s %-22s %-26s %9s %6s %8s %7s\n", "step", "node", "op", "impl",
               "ms", "share", "GOPS", "%peak");
  for (size_t s = 0; s < steps.size(); ++s) {
    const auto& st = steps[s];
    std::string gops = "", pct = "";
    if (st.macs > 0 && median[s] > 0) {
      const double g = 2.0 * static_cast<double>(st.macs) / median[s] / 1e9;
      gops = absl::StrFormat("%.0f", g);
      pct = absl::StrFormat("%.0f%%", 100.0 * g / peak);
    }
    std::fprintf(stderr, "%-4zu %-40.40s %-22.22s %-26.26s %9.4f %5.1f%% %8s %7s\n", s,
                 st.node.c_str(), st.op.c_str(), st.impl.empty() ? "-" : st.impl.c_str(),
                 median[s] * 1e3, total > 0 ? 100.0 * median[s] / total : 0.0, gops.c_str(),
                 pct.c_str());
  }
  std::fprintf(stderr, "sum of step medians: %.4f ms (peak %.0f GOPS at %d thread(s))\n",
               total * 1e3, peak, std::max(threads, 1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const std::string path = args[1];
  q8::engine::LoadOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.tune_kernels = absl::GetFlag(FLAGS_tune_kernels);
  const auto load_start = std::chrono::steady_clock::now();
  auto model = q8::engine::LoadModel(path, options);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const int batch = absl::GetFlag(FLAGS_batch);
  const std::string inputs_dir = absl::GetFlag(FLAGS_inputs);
  RunJsRandom rng(absl::GetFlag(FLAGS_seed));
  std::vector<q8::engine::Tensor> inputs;
  std::vector<q8::engine::TensorView> views;
  for (const auto& info : (*model)->info().inputs) {
    if (!inputs_dir.empty()) {
      auto t = ReadNpy(inputs_dir + "/" + FileName(info.name) + ".npy", info);
      if (!t.ok()) {
        std::fprintf(stderr, "error: %s\n", std::string(t.status().message()).c_str());
        return 1;
      }
      inputs.push_back(*std::move(t));
      continue;
    }
    q8::engine::Shape shape = info.shape;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] >= 0) continue;
      if (d != 0) {
        std::fprintf(stderr, "error: input %s: dim %zu is symbolic; only dim 0 (batch) may be\n",
                     info.name.c_str(), d);
        return 1;
      }
      shape[d] = batch;
    }
    q8::engine::Tensor t(info.dtype, shape);
    FillInput(t, rng);
    inputs.push_back(std::move(t));
  }
  for (const auto& t : inputs) views.push_back({t.dtype(), t.shape(), t.data()});

  q8::engine::RunContext ctx;
  // The first run plans for these shapes (primitives made, implementations tried): its time
  // is what a server's first request of a new batch size pays.
  double first_run_ms = -1;
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = (*model)->Run(ctx, views);
    if (i == 0) {
      first_run_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
  }
  std::vector<double> ms;
  std::vector<q8::engine::Tensor> outputs;
  for (int i = 0; i < std::max(absl::GetFlag(FLAGS_iters), 1); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = (*model)->Run(ctx, views);
    auto t1 = std::chrono::steady_clock::now();
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (first_run_ms < 0) first_run_ms = ms.back();
    outputs = *std::move(out);
  }
  if (const std::string dir = absl::GetFlag(FLAGS_save); !dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto& info = (*model)->info();
    for (size_t i = 0; i < inputs.size() && i < info.inputs.size(); ++i) {
      if (auto s = WriteNpy(dir + "/" + FileName(info.inputs[i].name) + ".npy", inputs[i]);
          !s.ok()) {
        std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
    for (size_t i = 0; i < outputs.size() && i < info.outputs.size(); ++i) {
      if (auto s = WriteNpy(dir + "/" + FileName(info.outputs[i].name) + ".out.npy", outputs[i]);
          !s.ok()) {
        std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
  }
  // The batch actually run (the first input's dim 0, e.g. from --inputs files).
  const int64_t ran_batch =
      !inputs.empty() && !inputs[0].shape().empty() ? inputs[0].shape()[0] : batch;
  double mean = 0;
  for (double v : ms) mean += v;
  mean /= static_cast<double>(ms.size());
  std::sort(ms.begin(), ms.end());
  const double p50 = Percentile(ms, 50);
  std::printf(
      "{\"model\":\"%s\",\"format\":\"%s\",\"threads\":%d,\"batch\":%d,\"p50_ms\":%.4f,"
      "\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f,\"throughput_per_s\":%.2f,"
      "\"load_ms\":%.1f,\"first_run_ms\":%.1f,"
      "\"runtime\":\"q8serve engine (oneDNN 2.6, %d int8 kernels)\"}\n",
      std::filesystem::path(path).filename().c_str(), (*model)->info().format.c_str(),
      absl::GetFlag(FLAGS_threads), static_cast<int>(ran_batch), p50, Percentile(ms, 90),
      Percentile(ms, 99), mean, static_cast<double>(ran_batch) * 1000.0 / p50, load_ms,
      first_run_ms, (*model)->info().num_int8_kernels);
  if (absl::GetFlag(FLAGS_profile)) {
    return PrintProfile(**model, ctx, views, std::max(absl::GetFlag(FLAGS_iters), 1),
                        absl::GetFlag(FLAGS_threads));
  }
  return 0;
}
