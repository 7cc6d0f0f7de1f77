// Engine-only latency of Model::Run (no gRPC): the default model and the bench MLPs at
// batch 1 and 8, one thread. Compare with onnxruntime through tests/bench/compare_ort.sh.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>

#include "engine/engine.h"

namespace {

std::string Dir(const char* env, const char* fallback) {
  const char* v = std::getenv(env);
  return v && *v ? v : fallback;
}

void RunModel(benchmark::State& state, const std::string& path) {
  q8::engine::LoadOptions options;
  options.threads = 1;
  auto model = q8::engine::LoadModel(path, options);
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  const auto& in = (*model)->info().inputs[0];
  q8::engine::Shape shape = in.shape;
  shape[0] = state.range(0);
  q8::engine::Tensor x(in.dtype, shape);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data_as<float>()[i] = normal(rng);
  q8::engine::RunContext ctx;
  for (auto _ : state) {
    auto out = (*model)->Run(ctx, {{x.dtype(), x.shape(), x.data()}});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_Digits(benchmark::State& s) {
  RunModel(s, Dir("Q8_SOURCE_DIR", Q8_DEFAULT_SOURCE_DIR) + "/deploy/models/digits/1/model.onnx");
}
void BM_MlpQdq(benchmark::State& s) {
  RunModel(s, Dir("Q8_SHARED_DIR", Q8_DEFAULT_SHARED_DIR) + "/bench/models/mlp_qdq.onnx");
}
void BM_MlpQop(benchmark::State& s) {
  RunModel(s, Dir("Q8_SHARED_DIR", Q8_DEFAULT_SHARED_DIR) + "/bench/models/mlp_qop.onnx");
}
BENCHMARK(BM_Digits)->Arg(1)->Arg(8);
BENCHMARK(BM_MlpQdq)->Arg(1)->Arg(8);
BENCHMARK(BM_MlpQop)->Arg(1)->Arg(8);

}  // namespace

BENCHMARK_MAIN();
