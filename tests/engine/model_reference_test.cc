// Whole models against references computed by others: onnxruntime's outputs on the
// bench MLPs (tests/fixtures/ort, recorded by tests/fixtures/record_ort.sh) and the
// digits model's numpy QDQ reference (deploy/models/make_digits_model.py). Also checks
// that plans for several batch sizes and concurrent runs give the same numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/npy.h"
#include "engine/engine.h"
#include "tests/common/test_env.h"

namespace q8::engine {
namespace {

using q8::testing::RequireFile;

Tensor ReadFloatNpy(const std::string& path) {
  auto host = q8::client::ReadNpyFile(RequireFile(path));
  EXPECT_TRUE(host.ok()) << host.status();
  if (!host.ok()) return Tensor();
  EXPECT_EQ(host->dtype, "float32");
  Tensor t(DType::kFloat32, host->shape);
  std::memcpy(t.data(), host->data.data(), t.byte_size());
  return t;
}

std::vector<Tensor> RunOne(const Model& model, const Tensor& input) {
  RunContext ctx;
  auto out = model.Run(ctx, {TensorView{input.dtype(), input.shape(), input.data()}});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? std::move(*out) : std::vector<Tensor>{};
}

// Max |a - b| over all elements, and whether every element is within tol·(1 + |b|).
double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < std::min(a.num_elements(), b.num_elements()); ++i) {
    m = std::max(m, static_cast<double>(std::abs(a.data_as<float>()[i] - b.data_as<float>()[i])));
  }
  return m;
}

double MaxAbs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.num_elements(); ++i) m = std::max(m, static_cast<double>(std::abs(t.data_as<float>()[i])));
  return m;
}

// Float outputs computed from int8 internals: both engines requantize every layer, and a
// value on a rounding edge may land one step apart, which moves the logits by about one
// output quantum of the last layer. Tolerance: 2 % of the largest |logit|.
constexpr double kLogitTolerance = 0.02;

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
    const float* g = got[0].data_as<float>() + r * 10;
    const float* w = want.data_as<float>() + r * 10;
    EXPECT_EQ(std::max_element(g, g + 10) - g, std::max_element(w, w + 10) - w) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(BenchMlps, OrtReferenceTest, ::testing::Values("mlp_qdq", "mlp_qop"));

class DigitsModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = LoadModel(RequireFile(q8::testing::SourceDir() + "/deploy/models/digits/1/model.onnx"));
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *m;
    batch4_ = ReadFloatNpy(examples_ + "/batch4.npy");
  }
  const std::string examples_ = q8::testing::SourceDir() + "/deploy/examples/digits";
  std::shared_ptr<const Model> model_;
  Tensor batch4_;
};

TEST_F(DigitsModelTest, MatchesTheNumpyQdqReferenceAndClassifiesCorrectly) {
  Tensor want = ReadFloatNpy(examples_ + "/batch4_logits_reference.npy");
  auto got = RunOne(*model_, batch4_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(MaxAbsDiff(got[0], want), 1e-4 * (1 + MaxAbs(want)));
  std::ifstream labels_file(RequireFile(examples_ + "/batch4_labels.json"));
  std::stringstream ss;
  ss << labels_file.rdbuf();
  std::string labels = ss.str();  // "[6, 2, 5, 1]"
  std::vector<int> expected;
  for (char ch : labels) {
    if (ch >= '0' && ch <= '9') expected.push_back(ch - '0');
  }
  ASSERT_EQ(expected.size(), 4u);
  for (int r = 0; r < 4; ++r) {
    const float* row = got[0].data_as<float>() + r * 10;
    EXPECT_EQ(std::max_element(row, row + 10) - row, expected[r]) << "sample " << r;
  }
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
