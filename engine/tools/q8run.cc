// q8run: load a model with the engine alone, feed seeded random inputs, time Run().
//
//   q8run MODEL.onnx [--threads T] [--batch N] [--iters K] [--warmup W] [--seed S]
//         [--profile] [--peak_gops_per_thread G]
//
// Prints one JSON line with the fields of ../shared/bench/ort/run.js, so the two can be
// tabulated side by side: {model, threads, batch, p50_ms, p90_ms, p99_ms, mean_ms,
// throughput_per_s, runtime}. Percentiles use the same index rule as run.js.
// --profile then times each step over the same number of runs and prints, on stderr, a
// table per step: median ms, share of the run, oneDNN implementation, and for
// convolutions/matmuls GOPS (2 ops per MAC) and their share of the CPU's int8 peak.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "engine/engine.h"

ABSL_FLAG(int, threads, 1, "threads per Run (oneDNN/OpenMP team size)");
ABSL_FLAG(int, batch, 1, "size of the symbolic batch dimension (dim 0)");
ABSL_FLAG(int, iters, 50, "timed runs");
ABSL_FLAG(int, warmup, 5, "untimed runs first (plans are built on the first)");
ABSL_FLAG(int, seed, 1, "seed of the N(0,1) float inputs (integer inputs are zeros)");
ABSL_FLAG(bool, profile, false, "also print per-step timings (stderr)");
ABSL_FLAG(bool, tune_kernels, true,
          "time oneDNN's candidate implementations per layer at plan time, keep the fastest "
          "(false: oneDNN's first choice)");
ABSL_FLAG(double, peak_gops_per_thread, 850,
          "int8 peak of one core, for --profile's %-of-peak column (../shared/bench/RESULTS.md: "
          "oneDNN u8s8 2048^3 matmul, ~850 GOPS per core on the AVX-512 VNNI machine)");

namespace {

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
  absl::SetProgramUsageMessage("q8run MODEL.onnx [--threads T] [--batch N] [--iters K]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr,
                 "usage: q8run MODEL.onnx [--threads T] [--batch N] [--iters K] "
                 "[--warmup W] [--seed S]\n");
    return 2;
  }
  const std::string path = args[1];
  q8::engine::LoadOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.tune_kernels = absl::GetFlag(FLAGS_tune_kernels);
  auto model = q8::engine::LoadModel(path, options);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const int batch = absl::GetFlag(FLAGS_batch);
  std::mt19937 rng(absl::GetFlag(FLAGS_seed));
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<q8::engine::Tensor> inputs;
  std::vector<q8::engine::TensorView> views;
  for (const auto& info : (*model)->info().inputs) {
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
    if (info.dtype == q8::engine::DType::kFloat32) {
      for (int64_t i = 0; i < t.num_elements(); ++i) t.data_as<float>()[i] = normal(rng);
    }
    views.push_back({t.dtype(), t.shape(), t.data()});
    inputs.push_back(std::move(t));
  }

  q8::engine::RunContext ctx;
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    auto out = (*model)->Run(ctx, views);
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
  }
  std::vector<double> ms;
  for (int i = 0; i < std::max(absl::GetFlag(FLAGS_iters), 1); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = (*model)->Run(ctx, views);
    auto t1 = std::chrono::steady_clock::now();
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  double mean = 0;
  for (double v : ms) mean += v;
  mean /= static_cast<double>(ms.size());
  std::sort(ms.begin(), ms.end());
  const double p50 = Percentile(ms, 50);
  std::printf(
      "{\"model\":\"%s\",\"threads\":%d,\"batch\":%d,\"p50_ms\":%.4f,\"p90_ms\":%.4f,"
      "\"p99_ms\":%.4f,\"mean_ms\":%.4f,\"throughput_per_s\":%.2f,\"runtime\":\"q8serve engine "
      "(oneDNN 2.6, %d int8 kernels)\"}\n",
      std::filesystem::path(path).filename().c_str(), absl::GetFlag(FLAGS_threads), batch, p50,
      Percentile(ms, 90), Percentile(ms, 99), mean, batch * 1000.0 / p50,
      (*model)->info().num_int8_kernels);
  if (absl::GetFlag(FLAGS_profile)) {
    return PrintProfile(**model, ctx, views, std::max(absl::GetFlag(FLAGS_iters), 1),
                        absl::GetFlag(FLAGS_threads));
  }
  return 0;
}
