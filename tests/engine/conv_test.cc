// The int8 convolution family on small graphs built in code:
//  - q8.QConv (oneDNN, weights packed at load, channels-last) against the scalar reference
//    convolution (conv_integer_kernel.cc) on the same QLinearConv, across groups,
//    depthwise, strides, dilations, pads, auto_pad and source zero points (folded into the
//    bias when unpadded, a zero-point attribute when padded);
//  - the QDQ residual add with ReLU against the formula computed here;
//  - bad models: a per-channel weight scale of the wrong length is a load error naming
//    the node.
#include <gtest/gtest.h>

#include <random>

#include "engine/engine.h"
#include "engine/quant/quant_math.h"
#include "tests/engine/onnx_test_models.h"

namespace q8::engine {
namespace {

using q8::testing::AddInitializer;
using q8::testing::AddInput;
using q8::testing::AddNode;
using q8::testing::MakeModel;
using q8::testing::WriteModel;

struct ConvCase {
  const char* name;
  int64_t channels, out_channels, groups, kernel, stride, dilation, pad;
  const char* auto_pad;
  uint8_t x_zero_point;
};

void AddInts(onnx::NodeProto* n, const std::string& key, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// QLinearConv on x [2, C, 11, 9] (u8). With `constant_weights` the weights are an
// initializer (the oneDNN q8.QConv path); otherwise a graph input (the reference path).
std::string QLinearConvModel(const ConvCase& c, bool constant_weights,
                             const std::vector<int8_t>& w, const std::vector<int32_t>& bias) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  const std::vector<int64_t> w_dims{c.out_channels, c.channels / c.groups, c.kernel, c.kernel};
  AddInput(g, "x", onnx::TensorProto::UINT8, {-1, c.channels, 11, 9});
  if (constant_weights) {
    AddInitializer(g, "w", onnx::TensorProto::INT8, w_dims, w);
  } else {
    AddInput(g, "w", onnx::TensorProto::INT8, w_dims);
  }
  std::vector<float> w_scale;
  for (int64_t o = 0; o < c.out_channels; ++o) w_scale.push_back(0.002f + 0.0005f * o);
  AddInitializer(g, "x_scale", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.05f});
  AddInitializer(g, "x_zp", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{c.x_zero_point});
  AddInitializer(g, "w_scale", onnx::TensorProto::FLOAT, {c.out_channels}, w_scale);
  AddInitializer(g, "w_zp", onnx::TensorProto::INT8, {c.out_channels},
                 std::vector<int8_t>(c.out_channels, 0));
  AddInitializer(g, "y_scale", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.04f});
  AddInitializer(g, "y_zp", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{100});
  AddInitializer(g, "b", onnx::TensorProto::INT32, {c.out_channels}, bias);
  auto* n = AddNode(g, "QLinearConv", "conv",
                    {"x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "b"}, {"y"});
  AddInts(n, "kernel_shape", {c.kernel, c.kernel});
  AddInts(n, "strides", {c.stride, c.stride});
  AddInts(n, "dilations", {c.dilation, c.dilation});
  auto* group = n->add_attribute();
  group->set_name("group");
  group->set_type(onnx::AttributeProto::INT);
  group->set_i(c.groups);
  if (std::string(c.auto_pad) == "NOTSET") {
    AddInts(n, "pads", {c.pad, c.pad, c.pad, c.pad});
  } else {
    auto* a = n->add_attribute();
    a->set_name("auto_pad");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(c.auto_pad);
  }
  AddInput(g, "y", onnx::TensorProto::UINT8, {-1, c.out_channels, -1, -1}, /*output=*/true);
  return WriteModel(m, std::string("qlinearconv_") + c.name + (constant_weights ? "_const" : "_input") +
                           ".onnx");
}

class QConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(QConvTest, OneDnnInt8ConvMatchesTheScalarReference) {
  const ConvCase& c = GetParam();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), b(-3000, 3000);
  std::vector<int8_t> w(static_cast<size_t>(c.out_channels * (c.channels / c.groups) * c.kernel * c.kernel));
  for (auto& v : w) v = static_cast<int8_t>(s8(rng));
  std::vector<int32_t> bias(static_cast<size_t>(c.out_channels));
  for (auto& v : bias) v = b(rng);
  Tensor x(DType::kUint8, {2, c.channels, 11, 9});
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data_as<uint8_t>()[i] = static_cast<uint8_t>(u8(rng));
  Tensor wt(DType::kInt8, {c.out_channels, c.channels / c.groups, c.kernel, c.kernel});
  std::copy(w.begin(), w.end(), wt.data_as<int8_t>());

  auto fast = LoadModel(QLinearConvModel(c, true, w, bias));
  auto reference = LoadModel(QLinearConvModel(c, false, w, bias));
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_EQ((*fast)->info().num_int8_kernels, 1) << "q8.QConv on oneDNN";
  EXPECT_EQ((*reference)->info().num_int8_kernels, 0) << "the scalar reference";
  RunContext ctx;
  auto got = (*fast)->Run(ctx, {TensorView{x.dtype(), x.shape(), x.data()}});
  auto want = (*reference)->Run(ctx, {TensorView{x.dtype(), x.shape(), x.data()},
                                      TensorView{wt.dtype(), wt.shape(), wt.data()}});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_EQ((*got)[0].shape(), (*want)[0].shape());
  int64_t off_by_one = 0;
  for (int64_t i = 0; i < (*got)[0].num_elements(); ++i) {
    const int d = (*got)[0].data_as<uint8_t>()[i] - (*want)[0].data_as<uint8_t>()[i];
    // Both requantize (acc + b)·os in float; os may round differently in its last bit.
    ASSERT_LE(std::abs(d), 1) << "element " << i;
    off_by_one += d != 0;
  }
  EXPECT_LE(off_by_one, (*got)[0].num_elements() / 100);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, QConvTest,
    ::testing::Values(ConvCase{"plain3x3_pad", 8, 16, 1, 3, 1, 1, 1, "NOTSET", 0},
                      ConvCase{"src_zp_padded", 8, 16, 1, 3, 1, 1, 1, "NOTSET", 131},
                      ConvCase{"src_zp_folded_unpadded", 8, 16, 1, 3, 1, 1, 0, "NOTSET", 131},
                      ConvCase{"pointwise_zp", 24, 8, 1, 1, 1, 1, 0, "NOTSET", 17},
                      ConvCase{"depthwise_stride2", 16, 16, 16, 3, 2, 1, 1, "NOTSET", 9},
                      ConvCase{"groups2_dilated_same_upper", 8, 12, 2, 3, 1, 2, 0, "SAME_UPPER", 60},
                      ConvCase{"stride2_same_lower", 4, 8, 1, 2, 2, 1, 0, "SAME_LOWER", 200}),
    [](const auto& info) { return std::string(info.param.name); });

// QDQ: x ─Q─DQ─ Conv(DQ(w), per-channel scales) ─► y, with `scale_count` weight scales.
std::string QdqConvModel(int64_t scale_count) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
  AddInitializer(g, "s", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.1f});
  AddInitializer(g, "z", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{128});
  AddInitializer(g, "w_q", onnx::TensorProto::INT8, {8, 4, 3, 3}, std::vector<int8_t>(8 * 4 * 9, 3));
  AddInitializer(g, "w_s", onnx::TensorProto::FLOAT, {scale_count},
                 std::vector<float>(static_cast<size_t>(scale_count), 0.01f));
  AddNode(g, "QuantizeLinear", "x_q", {"x", "s", "z"}, {"xq"});
  AddNode(g, "DequantizeLinear", "x_dq", {"xq", "s", "z"}, {"xd"});
  auto* wdq = AddNode(g, "DequantizeLinear", "w_dq", {"w_q", "w_s"}, {"wd"});
  auto* axis = wdq->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(0);
  AddInts(AddNode(g, "Conv", "/features/0/Conv", {"xd", "wd"}, {"y"}), "kernel_shape", {3, 3});
  AddInput(g, "y", onnx::TensorProto::FLOAT, {1, 8, 3, 3}, /*output=*/true);
  return WriteModel(m, "qdq_conv_scales_" + std::to_string(scale_count) + ".onnx");
}

TEST(QdqConvTest, FoldsIntoOneInt8Kernel) {
  auto model = LoadModel(QdqConvModel(8));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->info().num_int8_kernels, 1);
  Tensor x(DType::kFloat32, {1, 4, 5, 5});
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data_as<float>()[i] = 0.1f * (i % 7);
  RunContext ctx;
  auto y = (*model)->Run(ctx, {TensorView{x.dtype(), x.shape(), x.data()}});
  ASSERT_TRUE(y.ok()) << y.status();
  // Every output sums 36 inputs (all weights 3 · 0.01): x values are exact multiples of
  // the input scale, so y = 0.03 · Σ x exactly up to float rounding.
  for (int64_t oy = 0; oy < 3; ++oy) {
    float sum = 0;
    for (int64_t c = 0; c < 4; ++c) {
      for (int64_t ky = 0; ky < 3; ++ky) {
        for (int64_t kx = 0; kx < 3; ++kx) sum += x.data_as<float>()[(c * 5 + oy + ky) * 5 + kx];
      }
    }
    EXPECT_NEAR((*y)[0].data_as<float>()[oy * 3], 0.03f * sum, 1e-4) << "row " << oy;
  }
}

TEST(QdqConvTest, WrongPerChannelScaleCountIsALoadErrorNamingTheNode) {
  auto model = LoadModel(QdqConvModel(3));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  // The node at fault is the weights' DequantizeLinear (its scales do not fit its tensor),
  // caught when the graph is imported, before any fold sees the Conv.
  EXPECT_NE(model.status().message().find("node 'w_dq' (DequantizeLinear)"), std::string::npos)
      << model.status();
  EXPECT_NE(model.status().message().find("x_scale 'w_s' has 3 values"), std::string::npos)
      << model.status();
  EXPECT_NE(model.status().message().find("axis 0 of x 'w_q' [8,4,3,3] has 8"), std::string::npos)
      << model.status();
}

// Regression: oneDNN 2.6's int8 binary gave wrong values with the post-op chain
// linear → relu → linear; the add now uses linear → clip(z_y, ∞).
TEST(QdqAddTest, ResidualAddWithReluMatchesTheFormula) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "a", onnx::TensorProto::UINT8, {1, 3, 4, 5});
  AddInput(g, "b", onnx::TensorProto::UINT8, {1, 3, 4, 5});
  AddInitializer(g, "sa", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.07f});
  AddInitializer(g, "za", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{120});
  AddInitializer(g, "sb", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.03f});
  AddInitializer(g, "zb", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{10});
  AddInitializer(g, "sy", onnx::TensorProto::FLOAT, {}, std::vector<float>{0.05f});
  AddInitializer(g, "zy", onnx::TensorProto::UINT8, {}, std::vector<uint8_t>{3});
  AddNode(g, "DequantizeLinear", "a_dq", {"a", "sa", "za"}, {"ad"});
  AddNode(g, "DequantizeLinear", "b_dq", {"b", "sb", "zb"}, {"bd"});
  AddNode(g, "Add", "add", {"ad", "bd"}, {"sum"});
  AddNode(g, "Relu", "relu", {"sum"}, {"r"});
  AddNode(g, "QuantizeLinear", "q", {"r", "sy", "zy"}, {"y"});
  AddInput(g, "y", onnx::TensorProto::UINT8, {1, 3, 4, 5}, /*output=*/true);
  auto model = LoadModel(WriteModel(m, "qdq_add_relu.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->info().num_int8_kernels, 1) << "one q8.QAdd";
  Tensor a(DType::kUint8, {1, 3, 4, 5}), b(DType::kUint8, {1, 3, 4, 5});
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    a.data_as<uint8_t>()[i] = static_cast<uint8_t>(i * 37 % 256);
    b.data_as<uint8_t>()[i] = static_cast<uint8_t>(i * 91 % 256);
  }
  RunContext ctx;
  auto y = (*model)->Run(ctx, {TensorView{a.dtype(), a.shape(), a.data()},
                               TensorView{b.dtype(), b.shape(), b.data()}});
  ASSERT_TRUE(y.ok()) << y.status();
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const float v = quant::Dequantize<uint8_t>(a.data_as<uint8_t>()[i], 0.07f, 120) +
                    quant::Dequantize<uint8_t>(b.data_as<uint8_t>()[i], 0.03f, 10);
    const int want = quant::Quantize<uint8_t>(std::max(v, 0.f), 0.05f, 3);
    EXPECT_LE(std::abs((*y)[0].data_as<uint8_t>()[i] - want), 1) << "element " << i;
  }
}

}  // namespace
}  // namespace q8::engine
