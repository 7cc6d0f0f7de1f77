// Per-layer numbers: for each bench model, its heaviest int8 convolutions and matmuls
// (by MACs), each timed inside full-model runs (so caches see what they see in serving)
// through the engine's step profile. Reports per layer: time, GOPS (2 ops per MAC), and
// the share of this CPU's int8 peak (Q8_PEAK_GOPS per thread, default 850 — see
// ../shared/bench/RESULTS.md), plus the oneDNN implementation in the benchmark name.
//
//   build/tests/bench/layer_bench [--benchmark_filter=mobilenet]
// Env: Q8_SHARED_DIR, Q8_LAYER_THREADS (1), Q8_LAYER_BATCHES ("1,8"), Q8_LAYERS_PER_MODEL (3).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"

namespace {

using q8::engine::Model;
using q8::engine::RunContext;
using q8::engine::StepProfile;
using q8::engine::Tensor;
using q8::engine::TensorView;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int EnvInt(const char* name, int fallback) {
  int v = fallback;
  return absl::SimpleAtoi(Env(name, ""), &v) ? v : fallback;
}

// A model with seeded N(0,1) float inputs (integer inputs zero) at one batch size.
struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::vector<Tensor> inputs;
  std::vector<TensorView> views;
};

std::shared_ptr<LoadedModel> Load(const std::string& path, int threads, int batch) {
  q8::engine::LoadOptions options;
  options.threads = threads;
  auto model = q8::engine::LoadModel(path, options);
  if (!model.ok()) return nullptr;
  auto out = std::make_shared<LoadedModel>();
  out->model = *model;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const auto& info : out->model->info().inputs) {
    q8::engine::Shape shape = info.shape;
    for (auto& d : shape) d = d < 0 ? batch : d;
    Tensor t(info.dtype, shape);
    if (info.dtype == q8::engine::DType::kFloat32) {
      for (int64_t i = 0; i < t.num_elements(); ++i) t.data_as<float>()[i] = normal(rng);
    }
    out->inputs.push_back(std::move(t));
  }
  for (const Tensor& t : out->inputs) out->views.push_back({t.dtype(), t.shape(), t.data()});
  return out;
}

void TimeLayer(benchmark::State& state, std::shared_ptr<LoadedModel> m, size_t step, int64_t macs,
               int threads) {
  RunContext ctx;
  ctx.set_profiling(true);
  double layer_seconds = 0;
  for (auto _ : state) {
    auto out = m->model->Run(ctx, m->views);
    if (!out.ok() || ctx.profile().size() <= step) {
      state.SkipWithError(out.ok() ? "plan changed" : std::string(out.status().message()).c_str());
      return;
    }
    state.SetIterationTime(ctx.profile()[step].seconds);
    layer_seconds += ctx.profile()[step].seconds;
  }
  if (layer_seconds <= 0) return;
  const double gops = 2.0 * static_cast<double>(macs) * static_cast<double>(state.iterations()) /
                      layer_seconds / 1e9;
  state.counters["GOPS"] = gops;
  state.counters["peak_pct"] = 100.0 * gops / (EnvInt("Q8_PEAK_GOPS", 850) * threads);
}

// Registers one benchmark per heavy layer of each model and batch.
void RegisterLayers() {
  const std::string dir = Env("Q8_SHARED_DIR", Q8_DEFAULT_SHARED_DIR) + "/bench/models/";
  const int threads = EnvInt("Q8_LAYER_THREADS", 1);
  const int per_model = EnvInt("Q8_LAYERS_PER_MODEL", 3);
  std::vector<int> batches;
  for (absl::string_view b : absl::StrSplit(Env("Q8_LAYER_BATCHES", "1,8"), ',')) {
    int v = 0;
    if (absl::SimpleAtoi(b, &v) && v > 0) batches.push_back(v);
  }
  for (const char* name : {"cnn_qdq", "resnet_block_qdq", "resnet_block_qop", "mobilenet_qdq",
                           "bert_layer_qdq", "mlp_dynamic"}) {
    for (int batch : batches) {
      auto m = Load(dir + name + ".onnx", threads, batch);
      if (!m) continue;  // reported by engine tests; here only what runs is timed
      RunContext ctx;
      ctx.set_profiling(true);
      if (!m->model->Run(ctx, m->views).ok()) continue;
      std::vector<size_t> order;
      for (size_t s = 0; s < ctx.profile().size(); ++s) {
        if (ctx.profile()[s].macs > 0) order.push_back(s);
      }
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return ctx.profile()[a].macs > ctx.profile()[b].macs;
      });
      order.resize(std::min<size_t>(order.size(), per_model));
      for (size_t s : order) {
        const StepProfile& p = ctx.profile()[s];
        benchmark::RegisterBenchmark(absl::StrCat(name, "/b", batch, "/t", threads, "/", p.node,
                                                  " [", p.op, " ", p.impl, "]")
                                         .c_str(),
                                     [m, s, macs = p.macs, threads](benchmark::State& st) {
                                       TimeLayer(st, m, s, macs, threads);
                                     })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RegisterLayers();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
