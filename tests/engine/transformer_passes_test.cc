// The transformer and dynamic-quantization rewrites on the bench models: which nodes the
// passes leave, so a pattern that silently stops matching (and falls back to float or to
// the reference kernels) fails here rather than only in a benchmark.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/import/onnx_importer.h"
#include "engine/passes/passes.h"
#include "tests/common/test_env.h"

namespace q8::engine::passes {
namespace {

int Count(const ir::Graph& g, const std::string& op) {
  return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                        [&](const ir::Node& n) { return n.op_type == op; }));
}

ir::Graph Imported(const std::string& model) {
  auto g = ImportOnnxFile(
      q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/" + model + ".onnx"));
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? std::move(*g) : ir::Graph{};
}

TEST(TransformerPassesTest, BertLayerRunsItsProductsInInt8WithGeluAndBiasFused) {
  ir::Graph g = Imported("bert_layer_qdq");
  ASSERT_TRUE(RunPasses(g).ok());
  EXPECT_EQ(Count(g, "QGemm"), 6) << "Q, K, V, attention output, intermediate, output";
  EXPECT_EQ(Count(g, "QMatMul"), 2) << "scores and context";
  EXPECT_EQ(Count(g, "MatMul"), 0);
  EXPECT_EQ(Count(g, "DequantizeLinear"), 0);
  // GELU fused into the intermediate QGemm; the bias Adds into their QGemms; only the
  // two residual Adds stay.
  EXPECT_EQ(Count(g, "Erf") + Count(g, "Div") + Count(g, "Gelu"), 0);
  EXPECT_EQ(Count(g, "Add"), 2);
  for (const ir::Node& n : g.nodes) {
    if (n.op_type != "QGemm") continue;
    EXPECT_FALSE(n.Input(8).empty()) << n.name << " has its bias";
    if (n.name.find("intermediate") != std::string::npos) {
      EXPECT_EQ(n.GetString("activation", ""), "Gelu");
    }
  }
  // The attention scale (Mul 1/√d) is folded into the scores' QMatMul; the QuantizeLinear
  // of the context moved in front of its Transpose/Reshape and into the QMatMul.
  EXPECT_EQ(Count(g, "Mul"), 0);
  for (const ir::Node& n : g.nodes) {
    if (n.op_type != "QMatMul") continue;
    if (n.name.find("scores") != std::string::npos) {
      EXPECT_FLOAT_EQ(n.GetFloat("alpha", 1.f), 0.125f);
      // Kᵀ's QuantizeLinear emits int8 (z - 128) so oneDNN reads it as s8 weights directly.
      EXPECT_NE(n.Input(5).find(":int8"), std::string::npos) << n.Input(5);
    } else {
      EXPECT_FALSE(n.Input(6).empty()) << "context requantized in the matmul";
    }
  }
}

TEST(TransformerPassesTest, DynamicMlpBecomesTwoDynQGemmsWithRescaleBiasAndRelu) {
  ir::Graph g = Imported("mlp_dynamic");
  ASSERT_TRUE(RunPasses(g).ok());
  std::vector<std::string> ops;
  for (const auto& n : g.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (std::vector<std::string>{"DynamicQuantizeLinear", "DynQGemm",
                                           "DynamicQuantizeLinear", "DynQGemm"}));
  EXPECT_EQ(g.nodes[1].GetString("activation", ""), "Relu");
  EXPECT_EQ(g.nodes[3].GetString("activation", ""), "");
  EXPECT_EQ(g.nodes[1].Input(2), "input_scale") << "s_x fused as the run-time output scale";
  EXPECT_EQ(g.nodes[1].Input(5), "ffn.0.bias");
}

TEST(TransformerPassesTest, HoistQuantizeMovesAPerTensorQuantizeAboveTranspose) {
  ir::Graph g;
  g.inputs = {ir::ValueInfo{"x", DType::kFloat32, Shape{2, 3}}};
  g.outputs = {ir::ValueInfo{"y", DType::kUint8, std::nullopt}};
  Tensor s(DType::kFloat32, {}), z(DType::kUint8, {});
  s.data_as<float>()[0] = 0.5f;
  g.constants["s"] = std::make_shared<const Tensor>(std::move(s));
  g.constants["z"] = std::make_shared<const Tensor>(std::move(z));
  ir::Node t{"t", "Transpose", "", {"x"}, {"xt"}, {{"perm", std::vector<int64_t>{1, 0}}}};
  ir::Node q{"q", "QuantizeLinear", "", {"xt", "s", "z"}, {"y"}, {}};
  g.nodes = {t, q};
  ASSERT_TRUE(HoistQuantize(g).ok());
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op_type, "QuantizeLinear");
  EXPECT_EQ(g.nodes[0].Input(0), "x");
  EXPECT_EQ(g.nodes[1].op_type, "Transpose");
  EXPECT_EQ(g.nodes[1].Input(0), g.nodes[0].outputs[0]);
  EXPECT_EQ(g.nodes[1].outputs[0], "y") << "the graph output keeps its name";
}

}  // namespace
}  // namespace q8::engine::passes
