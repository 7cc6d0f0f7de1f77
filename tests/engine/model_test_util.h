// Helpers for tests that run whole models on .npy material: reading float arrays, one
// run, logit comparisons and the digits labels. Header-only; each test binary that
// links q8_npy may include it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/npy.h"
#include "engine/engine.h"
#include "tests/common/test_env.h"

namespace q8::testing {

inline engine::Tensor ReadFloatNpy(const std::string& path) {
  auto host = q8::client::ReadNpyFile(RequireFile(path));
  EXPECT_TRUE(host.ok()) << host.status();
  if (!host.ok()) return engine::Tensor();
  EXPECT_EQ(host->dtype, "float32");
  engine::Tensor t(engine::DType::kFloat32, host->shape);
  std::memcpy(t.data(), host->data.data(), t.byte_size());
  return t;
}

// A float32, int8 or uint8 .npy as an engine tensor.
inline engine::Tensor ReadNpy(const std::string& path) {
  auto host = q8::client::ReadNpyFile(RequireFile(path));
  EXPECT_TRUE(host.ok()) << host.status();
  if (!host.ok()) return engine::Tensor();
  engine::DType dtype = engine::DType::kUnknown;
  if (host->dtype == "float32") dtype = engine::DType::kFloat32;
  if (host->dtype == "int8") dtype = engine::DType::kInt8;
  if (host->dtype == "uint8") dtype = engine::DType::kUint8;
  EXPECT_NE(dtype, engine::DType::kUnknown) << path << ": " << host->dtype;
  engine::Tensor t(dtype, host->shape);
  EXPECT_EQ(t.byte_size(), host->data.size()) << path;
  std::memcpy(t.data(), host->data.data(), std::min(t.byte_size(), host->data.size()));
  return t;
}

inline engine::TensorView ViewOf(const engine::Tensor& t) {
  return engine::TensorView{t.dtype(), t.shape(), t.data()};
}

inline std::vector<engine::Tensor> RunOne(const engine::Model& model, const engine::Tensor& input) {
  engine::RunContext ctx;
  auto out = model.Run(ctx, {ViewOf(input)});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? std::move(*out) : std::vector<engine::Tensor>{};
}

// Max |a - b| over all elements of two float tensors of the same shape.
inline double MaxAbsDiff(const engine::Tensor& a, const engine::Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < std::min(a.num_elements(), b.num_elements()); ++i) {
    m = std::max(m, static_cast<double>(std::abs(a.data_as<float>()[i] - b.data_as<float>()[i])));
  }
  return m;
}

// Mean |a - b| over all elements of two float tensors of the same shape.
inline double MeanAbsDiff(const engine::Tensor& a, const engine::Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const int64_t n = std::min(a.num_elements(), b.num_elements());
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::abs(a.data_as<float>()[i] - b.data_as<float>()[i]);
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

inline double MaxAbs(const engine::Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    m = std::max(m, static_cast<double>(std::abs(t.data_as<float>()[i])));
  }
  return m;
}

// Index of the largest value in row r of a float [rows, cols] tensor.
inline int64_t ArgMaxRow(const engine::Tensor& t, int64_t r) {
  const int64_t cols = t.shape().back();
  const float* row = t.data_as<float>() + r * cols;
  return std::max_element(row, row + cols) - row;
}

// Float outputs computed from int8 internals: two engines requantize every layer, and a
// value on a rounding edge may land one step apart, which moves the logits by about one
// output quantum of the last layer. Tolerance: 2 % of the largest |logit|.
inline constexpr double kLogitTolerance = 0.02;

// The digits model (deploy/models/make_digits_model.py) and its examples: batch4.npy,
// batch4_logits_reference.npy and batch4_labels.json ("[6, 2, 5, 1]").
inline std::string DigitsModelPath() { return SourceDir() + "/deploy/models/digits/1/model.onnx"; }
inline std::string DigitsExamplesDir() { return SourceDir() + "/deploy/examples/digits"; }
inline std::vector<int64_t> DigitsBatch4Labels() {
  std::ifstream file(RequireFile(DigitsExamplesDir() + "/batch4_labels.json"));
  std::stringstream ss;
  ss << file.rdbuf();
  std::vector<int64_t> labels;
  for (char ch : ss.str()) {
    if (ch >= '0' && ch <= '9') labels.push_back(ch - '0');
  }
  EXPECT_EQ(labels.size(), 4u);
  return labels;
}

}  // namespace q8::testing
