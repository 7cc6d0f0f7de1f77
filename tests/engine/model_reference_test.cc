// Whole models against references computed by others: onnxruntime's outputs on the
// bench models (tests/fixtures/ort, recorded by tests/fixtures/record_ort.sh) and the
// digits model's numpy QDQ reference (deploy/models/make_digits_model.py). Also checks
// that plans for several batch sizes and concurrent runs give the same numbers.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "client/npy.h"
#include "engine/engine.h"
#include "tests/engine/model_test_util.h"

namespace q8::engine {
namespace {

using q8::testing::ArgMaxRow;
using q8::testing::kLogitTolerance;
using q8::testing::MaxAbs;
using q8::testing::MaxAbsDiff;
using q8::testing::ReadFloatNpy;
using q8::testing::ReadNpy;
using q8::testing::RequireFile;
using q8::testing::RunOne;

// One bench model against onnxruntime's recorded outputs (tests/fixtures/ort/<model>).
struct OrtCase {
  const char* model;
  const char* input;    // <input>.npy in the fixture
  const char* output;   // <output>.out.npy in the fixture
  int min_int8_kernels; // the heavy products must run on int8 oneDNN primitives
  // Tolerances relative to max |reference|: the largest and the mean element difference.
  // Both engines quantize the same tensors with the same parameters, but they sum and
  // rescale in different orders, so an intermediate value on a rounding edge can land one
  // quantization step apart and that step propagates through later layers.
  double max_rel, mean_rel;
  bool logits;          // rows are class scores: the arg-max must agree on every row
};

void PrintTo(const OrtCase& c, std::ostream* os) { *os << c.model; }

class OrtReferenceTest : public ::testing::TestWithParam<OrtCase> {};

TEST_P(OrtReferenceTest, MatchesOnnxruntime) {
  const OrtCase& c = GetParam();
  auto model = LoadModel(RequireFile(q8::testing::SharedDir() + "/bench/models/" + c.model + ".onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_GE((*model)->info().num_int8_kernels, c.min_int8_kernels)
      << "the matrix products must run on int8 oneDNN primitives";
  const std::string fixture = q8::testing::SourceDir() + "/tests/fixtures/ort/" + c.model;
  Tensor input = ReadFloatNpy(fixture + "/" + c.input + ".npy");
  Tensor want = ReadFloatNpy(fixture + "/" + c.output + ".out.npy");
  auto got = RunOne(**model, input);
  ASSERT_EQ(got.size(), 1u);
  const double scale = MaxAbs(want);
  EXPECT_LE(MaxAbsDiff(got[0], want), c.max_rel * scale);
  EXPECT_LE(q8::testing::MeanAbsDiff(got[0], want), c.mean_rel * scale);
  if (!c.logits) return;
  for (int64_t r = 0; r < want.shape()[0]; ++r) {
    EXPECT_EQ(ArgMaxRow(got[0], r), ArgMaxRow(want, r)) << "row " << r;
  }
}

// The MLPs: 3 int8 layers each, logits within kLogitTolerance. bert_layer_qdq: 6 weight
// QGemms + 2 attention QMatMuls; its output is a LayerNorm'd hidden state (|v| up to ~5),
// where a one-step difference in an intermediate int8 tensor moves a value by about 1 %
// of the largest; 2 % bounds the worst element, 0.2 % the mean. mlp_dynamic: 2 int8
// layers; its second DynamicQuantizeLinear sees the first layer's float output, which the
// engines round differently, so the same one-step argument applies.
// The CNNs (measured: cnn_qdq agrees to < 1e-6 of max |logit|; the ResNet blocks to two
// output quanta, 0.8–0.9 % of max |feature| at worst and < 1e-5 on average; mobilenet_qdq
// to 1.9 % / 0.4 %: 52 int8 layers deep, one-step rounding differences in depthwise
// layers reach the logits). cnn_qdq: 5 QConv + 2 QPool (MaxPool) + 1 QPool (GAP) + QGemm;
// the ResNet blocks: 4 QConv + 2 QAdd; mobilenet_qdq: 52 QConv + 10 QAdd + 1 QPool + QGemm.
INSTANTIATE_TEST_SUITE_P(
    BenchModels, OrtReferenceTest,
    ::testing::Values(OrtCase{"mlp_qdq", "input", "logits", 3, kLogitTolerance, kLogitTolerance, true},
                      OrtCase{"mlp_qop", "input", "logits", 3, kLogitTolerance, kLogitTolerance, true},
                      OrtCase{"bert_layer_qdq", "hidden_states", "last_hidden_state", 8, 0.02, 0.0005, false},
                      OrtCase{"mlp_dynamic", "input", "output", 2, 0.02, 0.002, false},
                      OrtCase{"cnn_qdq", "image", "logits", 9, 1e-4, 1e-5, true},
                      OrtCase{"resnet_block_qdq", "input", "features", 6, 0.015, 1e-4, false},
                      OrtCase{"resnet_block_qop", "input", "features", 6, 0.015, 1e-4, false},
                      OrtCase{"mobilenet_qdq", "input", "logits", 64, 0.03, 0.006, true}),
    [](const auto& info) { return std::string(info.param.model); });

// Small models of the quantized ops and forms the bench models leave out
// (tests/fixtures/ort/make_op_models.py), against onnxruntime on the same inputs
// (record_ort.sh): com.microsoft QLinearAdd (also with a broadcast operand) /
// QLinearGlobalAveragePool on uint8 and on int8, QDQ with int8 activations and
// per-tensor int8 weights (Conv with a float bias, Gemm with an int32 bias behind a DQ),
// and QDQ residual blocks (the int8 residual add, q8.QAdd).
struct OrtOpCase {
  const char* model;
  int min_int8_kernels;
  // Largest difference, in units of each output's quantization step (a float output is a
  // DequantizeLinear of y_q: the unit is s_y).
  int max_units;
  float float_unit;  // s_y of the float output (0: the model has none)
};

void PrintTo(const OrtOpCase& c, std::ostream* os) { *os << c.model; }

double ElementAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return t.data_as<float>()[i];
    case DType::kInt8: return t.data_as<int8_t>()[i];
    case DType::kUint8: return t.data_as<uint8_t>()[i];
    default: return NAN;
  }
}

class OrtOpModelTest : public ::testing::TestWithParam<OrtOpCase> {};

TEST_P(OrtOpModelTest, MatchesOnnxruntime) {
  const OrtOpCase& c = GetParam();
  const std::string dir = q8::testing::SourceDir() + "/tests/fixtures/ort/ops/";
  auto model = LoadModel(RequireFile(dir + c.model + ".onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  EXPECT_GE(info.num_int8_kernels, c.min_int8_kernels);
  std::vector<Tensor> inputs;
  std::vector<TensorView> views;
  for (const auto& in : info.inputs) {
    inputs.push_back(ReadNpy(dir + c.model + "/" + in.name + ".npy"));
  }
  for (const Tensor& t : inputs) views.push_back({t.dtype(), t.shape(), t.data()});
  RunContext ctx;
  auto out = (*model)->Run(ctx, views);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), info.outputs.size());
  for (size_t o = 0; o < out->size(); ++o) {
    const std::string& name = info.outputs[o].name;
    const Tensor want = ReadNpy(dir + c.model + "/" + name + ".out.npy");
    const Tensor& got = (*out)[o];
    ASSERT_EQ(got.dtype(), want.dtype()) << name;
    ASSERT_EQ(got.shape(), want.shape()) << name;
    const double unit = got.dtype() == DType::kFloat32 ? c.float_unit : 1.0;
    ASSERT_GT(unit, 0) << name << ": a float output needs the case's float_unit";
    std::map<int64_t, int64_t> histogram;  // |difference| in units → elements
    for (int64_t i = 0; i < got.num_elements(); ++i) {
      ++histogram[std::llround(std::abs(ElementAt(got, i) - ElementAt(want, i)) / unit)];
    }
    std::string shown;
    for (const auto& [d, n] : histogram) shown += " |d|=" + std::to_string(d) + ":" + std::to_string(n);
    EXPECT_LE(histogram.rbegin()->first, c.max_units) << name << ":" << shown;
  }
}

// Exact: the QLinear ops' integer results, and the QDQ chain's float output (a DQ of y_q,
// so a one-step difference would show as s_y). qdq_residual (two residual blocks, the
// second add with its operands swapped and a Relu): within one step, on 10 of 1600 values —
// the int8 add scales its two operands separately, onnxruntime adds the dequantized values
// first, and near a rounding edge the two land one step apart.
INSTANTIATE_TEST_SUITE_P(OpModels, OrtOpModelTest,
                         ::testing::Values(OrtOpCase{"qlinear_u8", 0, 0, 0.f},
                                           OrtOpCase{"qlinear_s8", 0, 0, 0.f},
                                           OrtOpCase{"qdq_s8_per_tensor", 2, 0, 0.0817f},
                                           OrtOpCase{"qdq_residual", 2, 1, 0.0311f}),
                         [](const auto& info) { return std::string(info.param.model); });

// A plan for another batch size (and the weights it packs) gives the same numbers:
// cnn_qdq's fixture holds two samples; the first, run alone, must match its row bit for bit.
TEST(CnnBatchTest, FirstSampleAloneMatchesItsRowInTheBatch) {
  auto model = LoadModel(RequireFile(q8::testing::SharedDir() + "/bench/models/cnn_qdq.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string fixture = q8::testing::SourceDir() + "/tests/fixtures/ort/cnn_qdq";
  Tensor batch = ReadFloatNpy(fixture + "/image.npy");
  ASSERT_EQ(batch.shape(), (Shape{2, 3, 32, 32}));
  Tensor first(DType::kFloat32, {1, 3, 32, 32});
  std::memcpy(first.data(), batch.data(), first.byte_size());
  auto full = RunOne(**model, batch);
  auto alone = RunOne(**model, first);
  ASSERT_EQ(full.size(), 1u);
  ASSERT_EQ(alone.size(), 1u);
  ASSERT_EQ(alone[0].shape(), (Shape{1, 10}));
  EXPECT_EQ(std::memcmp(alone[0].data(), full[0].data(), alone[0].byte_size()), 0);
}

class DigitsModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = LoadModel(RequireFile(q8::testing::DigitsModelPath()));
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *m;
    batch4_ = ReadFloatNpy(examples_ + "/batch4.npy");
  }
  const std::string examples_ = q8::testing::DigitsExamplesDir();
  std::shared_ptr<const Model> model_;
  Tensor batch4_;
};

TEST_F(DigitsModelTest, MatchesTheNumpyQdqReferenceAndClassifiesCorrectly) {
  Tensor want = ReadFloatNpy(examples_ + "/batch4_logits_reference.npy");
  auto got = RunOne(*model_, batch4_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(MaxAbsDiff(got[0], want), 1e-4 * (1 + MaxAbs(want)));
  const std::vector<int64_t> expected = q8::testing::DigitsBatch4Labels();
  ASSERT_EQ(expected.size(), 4u);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(ArgMaxRow(got[0], r), expected[r]) << "sample " << r;
}

TEST_F(DigitsModelTest, EveryBatchSizeGivesTheSameRows) {
  auto full = RunOne(*model_, batch4_);
  ASSERT_EQ(full.size(), 1u);
  for (int64_t rows : {1, 2, 3}) {
    Tensor part(DType::kFloat32, {rows, 64});
    std::memcpy(part.data(), batch4_.data(), part.byte_size());
    auto out = RunOne(*model_, part);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (Shape{rows, 10}));
    for (int64_t i = 0; i < rows * 10; ++i) {
      EXPECT_EQ(out[0].data_as<float>()[i], full[0].data_as<float>()[i]) << "batch " << rows;
    }
  }
}

TEST_F(DigitsModelTest, ConcurrentRunsWithOwnContextsAgree) {
  auto want = RunOne(*model_, batch4_);
  ASSERT_EQ(want.size(), 1u);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RunContext ctx;  // one per thread, as the contract says
      for (int i = 0; i < 200; ++i) {
        auto out = model_->Run(ctx, {TensorView{batch4_.dtype(), batch4_.shape(), batch4_.data()}});
        if (!out.ok() || std::memcmp((*out)[0].data(), want[0].data(), want[0].byte_size()) != 0) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// LoadOptions::threads is the OpenMP team size of the model's runs: each Run sets it in the
// calling thread before any parallel work, whatever that thread had (so a server worker
// running models of different settings gets each one's). 0: every core.
TEST(ThreadCountTest, EachRunUsesItsModelsThreadCount) {
  std::map<int, std::shared_ptr<const Model>> models;
  for (int threads : {1, 2, 0}) {
    LoadOptions options;
    options.threads = threads;
    auto m = LoadModel(RequireFile(q8::testing::DigitsModelPath()), options);
    ASSERT_TRUE(m.ok()) << m.status();
    models[threads] = *m;
  }
  const Tensor input = ReadFloatNpy(q8::testing::DigitsExamplesDir() + "/batch4.npy");
  std::map<int, int> seen;
  std::thread worker([&] {
    for (int threads : {1, 2, 0, 1}) {
      omp_set_num_threads(7);  // what the thread had before: must not be what runs
      RunOne(*models[threads], input);
      seen[threads] = omp_get_max_threads();
    }
  });
  worker.join();
  EXPECT_EQ(seen[1], 1);
  EXPECT_EQ(seen[2], 2);
  EXPECT_EQ(seen[0], std::getenv("OMP_NUM_THREADS") ? std::atoi(std::getenv("OMP_NUM_THREADS"))
                                                    : omp_get_num_procs());
}

}  // namespace
}  // namespace q8::engine
