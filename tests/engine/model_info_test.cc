// ModelInfo as the signature layer reads it: nodes in graph order, file metadata,
// DescribeModelFile (import without compile) and the quantization DescribeGraph
// attaches to tensors at QLinear* operator boundaries.
#include "engine/model_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>

#include "engine/engine.h"
#include "engine/import/onnx_importer.h"
#include "tests/common/test_env.h"
#include "tests/engine/onnx_test_models.h"

namespace q8::engine {
namespace {

using q8::testing::RequireFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string MlpQop() {
  return RequireFile(q8::testing::SharedDir() + "/bench/models/mlp_qop.onnx");
}
std::string Digits() {
  return RequireFile(q8::testing::SourceDir() + "/deploy/models/digits/1/model.onnx");
}

const TensorInfo* FindTensor(const ModelInfo& info, const std::string& name) {
  for (const auto& t : info.tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// The scalar float / integer value of a constant of the imported graph.
float ScalarScale(const ir::Graph& g, const std::string& name) {
  const Tensor* t = g.FindConstant(name);
  EXPECT_NE(t, nullptr) << name;
  return t ? *t->data_as<float>() : 0.f;
}
int64_t ScalarUint8(const ir::Graph& g, const std::string& name) {
  const Tensor* t = g.FindConstant(name);
  EXPECT_NE(t, nullptr) << name;
  return t ? *t->data_as<uint8_t>() : -1;
}

TEST(ModelInfoNodesTest, ListsTheImportedNodesInGraphOrder) {
  auto info = DescribeModelFile(MlpQop());
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->nodes.size(), 15u);
  EXPECT_EQ(info->num_nodes, 15);
  const NodeInfo& first = info->nodes.front();
  EXPECT_EQ(first.name, "input_QuantizeLinear");
  EXPECT_EQ(first.op_type, "QuantizeLinear");
  EXPECT_EQ(first.domain, "");
  EXPECT_THAT(first.inputs, ElementsAre("input", "input_scale", "input_zero_point"));
  EXPECT_THAT(first.outputs, ElementsAre("input_quantized"));
  EXPECT_EQ(info->nodes[1].op_type, "QLinearMatMul");
  EXPECT_EQ(info->nodes[1].name, "/fc1/MatMul_quant");
  EXPECT_EQ(info->nodes[1].inputs.size(), 8u);
  EXPECT_EQ(info->nodes.back().name, "logits_Identity");
  EXPECT_THAT(info->nodes.back().outputs, ElementsAre("logits"));
}

TEST(ModelInfoNodesTest, ConstantNodesAreFoldedAndNotListed) {
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {2});
  q8::testing::AddConstantFloats(g, "c0", "k", {1.f});
  q8::testing::AddNode(g, "Add", "add0", {"x", "k"}, {"s"});
  q8::testing::AddNode(g, "Relu", "relu0", {"s"}, {"y"});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {2}, /*output=*/true);
  auto info = DescribeModelFile(q8::testing::WriteModel(m, "constant_nodes.onnx"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->nodes.size(), 2u);
  EXPECT_EQ(info->nodes[0].name, "add0");
  EXPECT_EQ(info->nodes[1].name, "relu0");
}

TEST(ModelInfoMetadataTest, CarriesMetadataProps) {
  auto info = DescribeModelFile(Digits());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->metadata.size(), 2u);
  EXPECT_EQ(info->metadata.at("dataset"), "sklearn digits (UCI optdigits test set)");
  EXPECT_EQ(info->metadata.at("test_accuracy_int8"), "0.9805");
  // And through LoadModel, which describes the same imported graph.
  auto model = LoadModel(Digits());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->info().metadata, info->metadata);
}

TEST(ModelInfoMetadataTest, NoMetadataPropsIsAnEmptyMap) {
  auto m = q8::testing::MakeModel();
  q8::testing::AddInput(m.mutable_graph(), "x", onnx::TensorProto::FLOAT, {2});
  q8::testing::AddNode(m.mutable_graph(), "Relu", "relu0", {"x"}, {"y"});
  q8::testing::AddInput(m.mutable_graph(), "y", onnx::TensorProto::FLOAT, {2}, true);
  auto g = ImportOnnxBytes(m.SerializeAsString(), "plain.onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(DescribeGraph(*g, "plain.onnx", "onnx").metadata, IsEmpty());
}

TEST(DescribeModelFileTest, DescribesDigitsLikeLoadModelWithoutCompiling) {
  auto info = DescribeModelFile(Digits());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->path, Digits());
  EXPECT_EQ(info->format, "onnx");
  EXPECT_EQ(info->producer, "q8serve-digits 1");
  EXPECT_EQ(info->num_int8_kernels, 0) << "nothing is compiled";
  ASSERT_EQ(info->inputs.size(), 1u);
  EXPECT_EQ(info->inputs[0].name, "images");
  EXPECT_EQ(info->inputs[0].dtype, DType::kFloat32);
  EXPECT_EQ(info->inputs[0].shape, (Shape{-1, 64}));
  ASSERT_TRUE(info->inputs[0].quant.has_value());
  EXPECT_EQ(info->inputs[0].quant->storage, DType::kUint8);
  ASSERT_EQ(info->outputs.size(), 1u);
  EXPECT_EQ(info->outputs[0].name, "logits");
  EXPECT_EQ(info->outputs[0].shape, (Shape{-1, 10}));

  auto model = LoadModel(Digits());
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& loaded = (*model)->info();
  EXPECT_EQ(info->num_nodes, loaded.num_nodes);
  ASSERT_EQ(info->tensors.size(), loaded.tensors.size());
  for (size_t i = 0; i < loaded.tensors.size(); ++i) {
    EXPECT_EQ(info->tensors[i].name, loaded.tensors[i].name);
    EXPECT_EQ(info->tensors[i].quant.has_value(), loaded.tensors[i].quant.has_value());
  }
  ASSERT_EQ(info->nodes.size(), loaded.nodes.size());
  for (size_t i = 0; i < loaded.nodes.size(); ++i)
    EXPECT_EQ(info->nodes[i].name, loaded.nodes[i].name);
}

TEST(DescribeModelFileTest, FailsLikeLoadModelsImportStep) {
  const std::string missing = "/nonexistent/dir/model.onnx";
  auto info = DescribeModelFile(missing);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(info.status().message(), HasSubstr(missing));
  EXPECT_EQ(info.status(), LoadModel(missing).status());

  // An existing file with an extension no importer reads.
  const std::string text = q8::testing::WriteModel(q8::testing::MakeModel(), "model.bin");
  info = DescribeModelFile(text);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(info.status().message(), AllOf(HasSubstr(text), HasSubstr(".onnx")));
  EXPECT_EQ(info.status(), LoadModel(text).status());
}

// mlp_qop: input → QuantizeLinear → input_quantized → QLinearMatMul → ... The tensor
// between the two carries the same parameters whichever node describes it.
TEST(QOperatorQuantTest, QLinearMatMulOperandsCarryTheirParameters) {
  auto g = ImportOnnxFile(MlpQop());
  ASSERT_TRUE(g.ok()) << g.status();
  const ModelInfo info = DescribeGraph(*g, MlpQop(), "onnx");
  ASSERT_TRUE(info.inputs[0].quant.has_value());
  const QuantParams& in = *info.inputs[0].quant;
  const TensorInfo* a = FindTensor(info, "input_quantized");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->quant.has_value());
  EXPECT_EQ(a->quant->scales, in.scales);
  EXPECT_EQ(a->quant->zero_points, in.zero_points);
  EXPECT_EQ(a->quant->storage, in.storage);
  EXPECT_EQ(a->quant->axis, std::nullopt);
  EXPECT_EQ(a->quant->scales, std::vector<float>{ScalarScale(*g, "input_scale")});

  // y of QLinearMatMul: inputs 6 and 7.
  const TensorInfo* y = FindTensor(info, "/fc1/MatMul_output_0_quantized");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->dtype, DType::kUint8);
  ASSERT_TRUE(y->quant.has_value());
  EXPECT_EQ(y->quant->scales, std::vector<float>{ScalarScale(*g, "/fc1/MatMul_output_0_scale")});
  EXPECT_EQ(y->quant->zero_points,
            std::vector<int64_t>{ScalarUint8(*g, "/fc1/MatMul_output_0_zero_point")});
  // Weights are constants, not tensors a caller binds.
  EXPECT_EQ(FindTensor(info, "fc1.weight_quantized"), nullptr);
}

// A graph whose boundary is quantized: uint8 graph input straight into a QLinear op,
// uint8 graph output straight out of it.
// Every op here takes (operand, scale, zero point) triples and then y's scale and zero
// point; with two operands, both are graph inputs.
struct QOpCase {
  const char* op_type;
  const char* domain;
  int num_operands;
};

// gtest prints parameters in failure messages and test lists: the op_type says it all.
void PrintTo(const QOpCase& c, std::ostream* os) { *os << c.op_type; }

class QOperatorBoundaryTest : public ::testing::TestWithParam<QOpCase> {};

TEST_P(QOperatorBoundaryTest, QuantizedGraphInputsAndOutputsGetParameters) {
  const QOpCase& c = GetParam();
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  using onnx::TensorProto;
  q8::testing::AddInput(g, "a_q", TensorProto::UINT8, {-1, 4});
  q8::testing::AddInitializer<float>(g, "a_scale", TensorProto::FLOAT, {}, {0.5f});
  q8::testing::AddInitializer<uint8_t>(g, "a_zp", TensorProto::UINT8, {}, {10});
  std::vector<std::string> inputs = {"a_q", "a_scale", "a_zp"};
  if (c.num_operands == 2) {
    q8::testing::AddInput(g, "b_q", TensorProto::UINT8, {-1, 4});
    q8::testing::AddInitializer<float>(g, "b_scale", TensorProto::FLOAT, {}, {0.125f});
    q8::testing::AddInitializer<uint8_t>(g, "b_zp", TensorProto::UINT8, {}, {7});
    inputs.insert(inputs.end(), {"b_q", "b_scale", "b_zp"});
  }
  q8::testing::AddInitializer<float>(g, "y_scale", TensorProto::FLOAT, {}, {0.25f});
  q8::testing::AddInitializer<uint8_t>(g, "y_zp", TensorProto::UINT8, {}, {3});
  inputs.insert(inputs.end(), {"y_scale", "y_zp"});
  q8::testing::AddNode(g, c.op_type, "qop", inputs, {"y_q"})->set_domain(c.domain);
  q8::testing::AddInput(g, "y_q", TensorProto::UINT8, {-1, 4}, /*output=*/true);
  auto imported = ImportOnnxBytes(m.SerializeAsString(), "qop.onnx");
  ASSERT_TRUE(imported.ok()) << imported.status();
  const ModelInfo info = DescribeGraph(*imported, "qop.onnx", "onnx");

  ASSERT_EQ(info.inputs.size(), static_cast<size_t>(c.num_operands));
  ASSERT_TRUE(info.inputs[0].quant.has_value()) << c.op_type;
  EXPECT_EQ(info.inputs[0].quant->scales, std::vector<float>{0.5f});
  EXPECT_EQ(info.inputs[0].quant->zero_points, std::vector<int64_t>{10});
  EXPECT_EQ(info.inputs[0].quant->storage, DType::kUint8);
  if (c.num_operands == 2) {
    ASSERT_TRUE(info.inputs[1].quant.has_value());
    EXPECT_EQ(info.inputs[1].quant->scales, std::vector<float>{0.125f});
    EXPECT_EQ(info.inputs[1].quant->zero_points, std::vector<int64_t>{7});
  }
  ASSERT_TRUE(info.outputs[0].quant.has_value()) << c.op_type;
  EXPECT_EQ(info.outputs[0].quant->scales, std::vector<float>{0.25f});
  EXPECT_EQ(info.outputs[0].quant->zero_points, std::vector<int64_t>{3});
  EXPECT_EQ(info.outputs[0].producer_op, c.op_type);
}

INSTANTIATE_TEST_SUITE_P(Ops, QOperatorBoundaryTest,
                         ::testing::Values(QOpCase{"QLinearMatMul", "", 2},
                                           QOpCase{"QLinearConv", "", 2},
                                           QOpCase{"QLinearAdd", "com.microsoft", 2},
                                           QOpCase{"QLinearMul", "com.microsoft", 2},
                                           QOpCase{"QLinearGlobalAveragePool", "com.microsoft", 1}),
                         [](const auto& info) { return std::string(info.param.op_type); });

TEST(QOperatorBoundaryTest, QLinearMatMulWithRuntimeScaleLeavesTheInputUndescribed) {
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  using onnx::TensorProto;
  q8::testing::AddInput(g, "a_q", TensorProto::UINT8, {-1, 2});
  q8::testing::AddInput(g, "a_scale", TensorProto::FLOAT, {});  // known only at run time
  q8::testing::AddInitializer<uint8_t>(g, "a_zp", TensorProto::UINT8, {}, {0});
  q8::testing::AddInitializer<int8_t>(g, "b", TensorProto::INT8, {2, 3}, {1, 2, 3, 4, 5, 6});
  q8::testing::AddInitializer<float>(g, "b_scale", TensorProto::FLOAT, {3}, {0.1f, 0.2f, 0.3f});
  q8::testing::AddInitializer<int8_t>(g, "b_zp", TensorProto::INT8, {3}, {0, 0, 0});
  q8::testing::AddInitializer<float>(g, "y_scale", TensorProto::FLOAT, {}, {0.25f});
  q8::testing::AddInitializer<uint8_t>(g, "y_zp", TensorProto::UINT8, {}, {128});
  q8::testing::AddNode(g, "QLinearMatMul", "mm",
                       {"a_q", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"},
                       {"y_q"});
  q8::testing::AddInput(g, "y_q", TensorProto::UINT8, {-1, 3}, /*output=*/true);
  auto imported = ImportOnnxBytes(m.SerializeAsString(), "mm.onnx");
  ASSERT_TRUE(imported.ok()) << imported.status();
  const ModelInfo info = DescribeGraph(*imported, "mm.onnx", "onnx");
  ASSERT_EQ(info.inputs.size(), 2u);
  EXPECT_FALSE(info.inputs[0].quant.has_value()) << "scale is a runtime input";
  ASSERT_TRUE(info.outputs[0].quant.has_value());
  EXPECT_EQ(info.outputs[0].quant->zero_points, std::vector<int64_t>{128});
  EXPECT_EQ(FindTensor(info, "b"), nullptr) << "per-column weights are a constant";
}

}  // namespace
}  // namespace q8::engine
