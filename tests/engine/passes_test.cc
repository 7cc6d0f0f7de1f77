#include "engine/passes/passes.h"

#include <gtest/gtest.h>

#include "engine/import/onnx_importer.h"
#include "tests/common/test_env.h"

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

}  // namespace
}  // namespace q8::engine::passes
