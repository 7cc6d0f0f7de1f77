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
  // Gemm keeps a float output (no QuantizeLinear after it); Identity names the output.
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"QuantizeLinear", "QGemm", "QGemm", "QGemm",
                                                   "Identity"}));
  const ir::Node& fc1 = g->nodes[1];
  EXPECT_EQ(fc1.GetString("activation", ""), "Relu");
  EXPECT_EQ(fc1.Input(0), "input_QuantizeLinear_Output");
  EXPECT_EQ(fc1.Input(3), "fc1.weight_quantized");
  EXPECT_FALSE(fc1.Input(6).empty()) << "requantization fused";
  EXPECT_EQ(fc1.outputs[0], "/fc1/Relu_output_0_QuantizeLinear_Output");
  const ir::Node& fc3 = g->nodes[3];
  EXPECT_TRUE(fc3.Input(6).empty()) << "float output";
  EXPECT_EQ(fc3.GetString("activation", ""), "");
  EXPECT_EQ(fc3.outputs[0], "/fc3/Gemm_output_0");
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
                                                   "DequantizeEpilogue", "Identity"}));
  EXPECT_EQ(g->nodes[2].GetString("activation", ""), "Relu");
  EXPECT_FALSE(g->nodes[2].Input(4).empty()) << "requantized";
  EXPECT_TRUE(g->nodes[6].Input(4).empty()) << "float output";
  EXPECT_EQ(g->nodes[6].outputs[0], "/fc3/Add_output_0");
}

}  // namespace
}  // namespace q8::engine::passes
