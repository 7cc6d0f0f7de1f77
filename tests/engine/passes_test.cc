#include "engine/passes/passes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "engine/import/onnx_importer.h"
#include "tests/common/test_env.h"
#include "tests/engine/onnx_test_models.h"

namespace q8::engine::passes {
namespace {

std::vector<std::string> OpTypes(const ir::Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes) ops.push_back(n.op_type);
  return ops;
}

TEST(FoldQdqMatMulTest, TurnsTheQdqMlpIntoThreeInt8Gemms) {
  auto g = ImportOnnxFile(q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qdq.onnx"));
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(RunPasses(*g).ok());
  // Input quantization stays; each DQ→Gemm→Relu→Q chain becomes one QGemm; the last
  // Gemm keeps a float output (no QuantizeLinear after it) and writes the graph output
  // itself: the Identity that named it is gone (EliminateIdentity), no copy per run.
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"QuantizeLinear", "QGemm", "QGemm", "QGemm"}));
  const ir::Node& fc1 = g->nodes[1];
  EXPECT_EQ(fc1.GetString("activation", ""), "Relu");
  EXPECT_EQ(fc1.Input(0), "input_QuantizeLinear_Output");
  EXPECT_EQ(fc1.Input(3), "fc1.weight_quantized");
  EXPECT_FALSE(fc1.Input(6).empty()) << "requantization fused";
  EXPECT_EQ(fc1.outputs[0], "/fc1/Relu_output_0_QuantizeLinear_Output");
  const ir::Node& fc3 = g->nodes[3];
  EXPECT_TRUE(fc3.Input(6).empty()) << "float output";
  EXPECT_EQ(fc3.GetString("activation", ""), "");
  EXPECT_EQ(fc3.outputs[0], g->outputs[0].name);
}

TEST(EliminateIdentityTest, RenamesValuesButKeepsGraphInputsAndOutputsNamed) {
  // in ─Identity→ mid ─Relu→ r ─Identity→ out, plus in ─Identity→ out2 (input passthrough).
  ir::Graph g;
  g.inputs = {{"in", DType::kFloat32, Shape{2}}};
  g.outputs = {{"out", DType::kFloat32, std::nullopt}, {"out2", DType::kFloat32, std::nullopt}};
  auto node = [](std::string name, std::string op, std::string in, std::string out) {
    ir::Node n;
    n.name = std::move(name);
    n.op_type = std::move(op);
    n.inputs = {std::move(in)};
    n.outputs = {std::move(out)};
    return n;
  };
  g.nodes = {node("i1", "Identity", "in", "mid"), node("relu", "Relu", "mid", "r"),
             node("i2", "Identity", "r", "out"), node("i3", "Identity", "in", "out2")};
  ASSERT_TRUE(EliminateIdentity(g).ok());
  ASSERT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Identity"}));
  EXPECT_EQ(g.nodes[0].inputs[0], "in") << "reads the Identity's input";
  EXPECT_EQ(g.nodes[0].outputs[0], "out") << "writes the graph output directly";
  EXPECT_EQ(g.nodes[1].name, "i3") << "a graph input passed to an output needs its copy";
}

TEST(FoldQdqMatMulTest, LeavesAGemmWithAlphaAlone) {
  // Gemm(alpha=2) over DQ inputs is not the pattern: it must stay float, not be folded wrongly.
  auto g = ImportOnnxFile(q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qdq.onnx"));
  ASSERT_TRUE(g.ok());
  for (auto& n : g->nodes) {
    if (n.name == "/fc2/Gemm") n.attrs["alpha"] = 2.0f;
  }
  ASSERT_TRUE(RunPasses(*g).ok());
  int gemms = 0, qgemms = 0;
  for (const auto& n : g->nodes) {
    gemms += n.op_type == "Gemm";
    qgemms += n.op_type == "QGemm";
  }
  EXPECT_EQ(gemms, 1);
  EXPECT_EQ(qgemms, 2);
}

TEST(FoldDequantizeEpilogueTest, FusesTheQOperatorBiasReluRequantizeChains) {
  auto g = ImportOnnxFile(q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qop.onnx"));
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(RunPasses(*g).ok());
  // DequantizeLinear → Add(bias) → Relu → QuantizeLinear after fc1 and fc2 become one
  // node each; after fc3 the chain ends in float (no QuantizeLinear).
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"QuantizeLinear", "QGemm", "DequantizeEpilogue",
                                                   "QGemm", "DequantizeEpilogue", "QGemm",
                                                   "DequantizeEpilogue"}));
  EXPECT_EQ(g->nodes[2].GetString("activation", ""), "Relu");
  EXPECT_FALSE(g->nodes[2].Input(4).empty()) << "requantized";
  EXPECT_TRUE(g->nodes[6].Input(4).empty()) << "float output";
  EXPECT_EQ(g->nodes[6].outputs[0], "logits") << "the Identity naming the output is gone";
}

// LayerNormalization over the last axis as PyTorch exports it before opset 17, on x [2,3,8]:
// mean, x - mean, its square (Pow 2, or Mul(d, d) when `square_with_mul`), the variance,
// + eps, sqrt, divide, * gamma, + beta. gamma_dims gives gamma's (and beta's) shape.
onnx::ModelProto DecomposedLayerNorm(bool square_with_mul, std::vector<int64_t> gamma_dims) {
  using q8::testing::AddInitializer;
  using q8::testing::AddNode;
  onnx::ModelProto m = q8::testing::MakeModel(13);
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {2, 3, 8});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {2, 3, 8}, /*output=*/true);
  int64_t n = 1;
  for (int64_t d : gamma_dims) n *= d;
  std::vector<float> gamma(n), beta(n);
  for (int64_t i = 0; i < n; ++i) {
    gamma[i] = 0.5f + 0.25f * static_cast<float>(i);
    beta[i] = -1.f + 0.125f * static_cast<float>(i);
  }
  AddInitializer<float>(g, "gamma", onnx::TensorProto::FLOAT, gamma_dims, gamma);
  AddInitializer<float>(g, "beta", onnx::TensorProto::FLOAT, gamma_dims, beta);
  AddInitializer<float>(g, "two", onnx::TensorProto::FLOAT, {}, {2.f});
  AddInitializer<float>(g, "eps", onnx::TensorProto::FLOAT, {}, {1e-5f});
  auto reduce = [&](const char* name, const char* in, const char* out) {
    auto* a = AddNode(g, "ReduceMean", name, {in}, {out})->add_attribute();
    a->set_name("axes");
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(-1);
  };
  reduce("mean", "x", "mu");
  AddNode(g, "Sub", "sub", {"x", "mu"}, {"d"});
  if (square_with_mul) {
    AddNode(g, "Mul", "square", {"d", "d"}, {"d2"});
  } else {
    AddNode(g, "Pow", "square", {"d", "two"}, {"d2"});
  }
  reduce("var", "d2", "var");
  AddNode(g, "Add", "add_eps", {"var", "eps"}, {"ve"});
  AddNode(g, "Sqrt", "sqrt", {"ve"}, {"sd"});
  AddNode(g, "Div", "div", {"d", "sd"}, {"nd"});
  AddNode(g, "Mul", "scale", {"nd", "gamma"}, {"sc"});
  AddNode(g, "Add", "shift", {"sc", "beta"}, {"y"});
  return m;
}

std::vector<float> LayerNormInput() {
  std::vector<float> x(2 * 3 * 8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 3.f * std::sin(0.7f * static_cast<float>(i)) + 0.1f * i;
  return x;
}

// By the definition, in double: rows of 8, gamma / beta per element or broadcast from one.
std::vector<float> LayerNormReference(const std::vector<float>& x, size_t params) {
  std::vector<float> y(x.size());
  for (size_t r = 0; r < x.size() / 8; ++r) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < 8; ++i) mean += x[r * 8 + i] / 8.0;
    for (size_t i = 0; i < 8; ++i) var += (x[r * 8 + i] - mean) * (x[r * 8 + i] - mean) / 8.0;
    for (size_t i = 0; i < 8; ++i) {
      const size_t p = params == 1 ? 0 : i;
      y[r * 8 + i] = static_cast<float>((x[r * 8 + i] - mean) / std::sqrt(var + 1e-5) *
                                            (0.5 + 0.25 * p) + (-1.0 + 0.125 * p));
    }
  }
  return y;
}

void ExpectRunsAsLayerNorm(const onnx::ModelProto& m, const std::string& file, size_t params) {
  auto model = LoadModel(q8::testing::WriteModel(m, file));
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<float> x = LayerNormInput();
  RunContext ctx;
  auto out = (*model)->Run(ctx, {TensorView{DType::kFloat32, {2, 3, 8}, x.data()}});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> want = LayerNormReference(x, params);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR((*out)[0].data_as<float>()[i], want[i], 2e-5f * (1.f + std::abs(want[i]))) << i;
  }
}

TEST(FuseLayerNormTest, TheDecomposedPatternBecomesOneLayerNormalization) {
  for (bool with_mul : {false, true}) {
    const std::string file = with_mul ? "ln_mul.onnx" : "ln_pow.onnx";
    const onnx::ModelProto m = DecomposedLayerNorm(with_mul, {8});
    auto g = ImportOnnxFile(q8::testing::WriteModel(m, file));
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE(RunPasses(*g).ok());
    ASSERT_EQ(OpTypes(*g), (std::vector<std::string>{"LayerNormalization"})) << file;
    const ir::Node& ln = g->nodes[0];
    EXPECT_EQ(ln.inputs, (std::vector<std::string>{"x", "gamma", "beta"}));
    EXPECT_EQ(ln.outputs[0], "y");
    EXPECT_EQ(ln.GetInt("axis", 0), -1);
    EXPECT_FLOAT_EQ(ln.GetFloat("epsilon", 0.f), 1e-5f);
    ExpectRunsAsLayerNorm(m, file, 8);
  }
}

// gamma and beta of shape [1] broadcast: not the normalised shape, so the ops stay, and
// compute the same thing op by op (ReduceMean, Sub, Pow, ... on their own kernels).
TEST(FuseLayerNormTest, BroadcastParametersStayUnfusedAndStillCompute) {
  const onnx::ModelProto m = DecomposedLayerNorm(false, {1});
  auto g = ImportOnnxFile(q8::testing::WriteModel(m, "ln_broadcast.onnx"));
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(RunPasses(*g).ok());
  const std::vector<std::string> ops = OpTypes(*g);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "ReduceMean"), 2);
  ExpectRunsAsLayerNorm(m, "ln_broadcast.onnx", 1);
}

// A TFLite QUANTIZE between storage types (uint8 → int8) has no integer TFLite kernel here:
// the chain keeps its float form rather than failing the load; int8 → int8 folds.
TEST(FoldTfliteInt8Test, AQuantizeAcrossStorageTypesKeepsItsFloatForm) {
  for (DType from : {DType::kUint8, DType::kInt8}) {
    ir::Graph g;
    g.inputs = {{"x", from, Shape{1, 4}}};
    g.outputs = {{"y", DType::kInt8, std::nullopt}};
    auto scalar = [&](const std::string& name, DType dtype, float value) {
      Tensor t(dtype, Shape{});
      if (dtype == DType::kFloat32) t.data_as<float>()[0] = value;
      if (dtype == DType::kInt8) t.data_as<int8_t>()[0] = static_cast<int8_t>(value);
      if (dtype == DType::kUint8) t.data_as<uint8_t>()[0] = static_cast<uint8_t>(value);
      g.constants[name] = std::make_shared<const Tensor>(std::move(t));
    };
    scalar("s_x", DType::kFloat32, 0.05f);
    scalar("z_x", from, from == DType::kUint8 ? 128.f : 0.f);
    scalar("s_y", DType::kFloat32, 0.07f);
    scalar("z_y", DType::kInt8, 3.f);
    auto node = [](const char* op, std::vector<std::string> in, std::string out) {
      ir::Node n;
      n.name = op;
      n.op_type = op;
      n.inputs = std::move(in);
      n.outputs = {std::move(out)};
      return n;
    };
    ir::Node quantize = node("Identity", {"xf"}, "id");
    quantize.attrs["quant_arithmetic"] = std::string("tflite");
    g.nodes = {node("DequantizeLinear", {"x", "s_x", "z_x"}, "xf"), quantize,
               node("QuantizeLinear", {"id", "s_y", "z_y"}, "y")};
    ASSERT_TRUE(FoldTfliteInt8(g).ok());
    const std::vector<std::string> want =
        from == DType::kInt8
            ? std::vector<std::string>{"TfliteRequantize"}
            : std::vector<std::string>{"DequantizeLinear", "Identity", "QuantizeLinear"};
    EXPECT_EQ(OpTypes(g), want) << DTypeName(from);
  }
}

}  // namespace
}  // namespace q8::engine::passes
