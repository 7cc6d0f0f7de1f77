// Whole models against references computed by others: onnxruntime's outputs on the
// bench MLPs (tests/fixtures/ort, recorded by tests/fixtures/record_ort.sh) and the
// digits model's numpy QDQ reference (deploy/models/make_digits_model.py). Also checks
// that plans for several batch sizes and concurrent runs give the same numbers.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "engine/engine.h"
#include "tests/engine/model_test_util.h"

namespace q8::engine {
namespace {

using q8::testing::ArgMaxRow;
using q8::testing::kLogitTolerance;
using q8::testing::MaxAbs;
using q8::testing::MaxAbsDiff;
using q8::testing::ReadFloatNpy;
using q8::testing::RequireFile;
using q8::testing::RunOne;

class OrtReferenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(OrtReferenceTest, MatchesOnnxruntime) {
  const std::string name = GetParam();
  auto model = LoadModel(RequireFile(q8::testing::SharedDir() + "/bench/models/" + name + ".onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->info().num_int8_kernels, 3) << "all three layers on int8 oneDNN matmul";
  const std::string fixture = q8::testing::SourceDir() + "/tests/fixtures/ort/" + name;
  Tensor input = ReadFloatNpy(fixture + "/input.npy");
  Tensor want = ReadFloatNpy(fixture + "/logits.out.npy");
  auto got = RunOne(**model, input);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(MaxAbsDiff(got[0], want), kLogitTolerance * MaxAbs(want));
  // The predicted class agrees on every row.
  for (int64_t r = 0; r < want.shape()[0]; ++r) {
    EXPECT_EQ(ArgMaxRow(got[0], r), ArgMaxRow(want, r)) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(BenchMlps, OrtReferenceTest, ::testing::Values("mlp_qdq", "mlp_qop"));

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

}  // namespace
}  // namespace q8::engine
