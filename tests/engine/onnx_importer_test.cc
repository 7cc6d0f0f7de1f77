#include "engine/import/onnx_importer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/dnnl/kernel.h"
#include "engine/engine.h"
#include "engine/import/onnx_op_versions.h"
#include "tests/common/test_env.h"
#include "tests/engine/onnx_test_models.h"

namespace q8::engine {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using q8::testing::RequireFile;
using q8::testing::SharedDir;

std::string MlpQdq() { return RequireFile(SharedDir() + "/bench/models/mlp_qdq.onnx"); }

TEST(OnnxImporterTest, ImportsTheQdqMlp) {
  auto g = ImportOnnxFile(MlpQdq());
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(g->inputs[0].name, "input");
  EXPECT_EQ(g->inputs[0].dtype, DType::kFloat32);
  EXPECT_EQ(*g->inputs[0].shape, (Shape{-1, 784}));  // symbolic batch "N"
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->outputs[0].name, "logits");
  EXPECT_EQ(g->nodes.size(), 18u);
  const Tensor* w = g->FindConstant("fc1.weight_quantized");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype(), DType::kInt8);
  EXPECT_EQ(w->shape(), (Shape{1024, 784}));
}

TEST(OnnxImporterTest, MissingFileIsNotFoundAndNamesTheFile) {
  auto m = LoadModel("/nonexistent/model.onnx");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr("/nonexistent/model.onnx"));
}

TEST(OnnxImporterTest, GarbageBytesAreInvalidArgument) {
  auto g = ImportOnnxBytes("this is not a protobuf \xff\xff\xff", "bad.onnx");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), AllOf(HasSubstr("bad.onnx"), HasSubstr("ModelProto")));
}

TEST(OnnxImporterTest, UnsupportedOpNamesFileNodeAndOpType) {
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {-1, 4});
  q8::testing::AddNode(g, "Relu", "relu0", {"x"}, {"r"});
  q8::testing::AddNode(g, "NonMaxSuppression", "nms_node", {"r"}, {"y"});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {-1, 4}, /*output=*/true);
  const std::string path = q8::testing::WriteModel(m, "unsupported.onnx");
  auto model = LoadModel(path);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(model.status().message(),
              AllOf(HasSubstr(path), HasSubstr("nms_node"), HasSubstr("NonMaxSuppression"),
                    HasSubstr("Supported ops"), HasSubstr("QuantizeLinear")));
}

TEST(OnnxImporterTest, DanglingInputIsRejectedWithTheNodeName) {
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {2});
  q8::testing::AddNode(g, "Add", "add0", {"x", "nowhere"}, {"y"});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {2}, true);
  auto imported = ImportOnnxBytes(m.SerializeAsString(), "dangling.onnx");
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(imported.status().message(), AllOf(HasSubstr("add0"), HasSubstr("nowhere")));
}

TEST(OnnxImporterTest, ExternalDataIsRejectedNamingTheTensor) {
  auto m = q8::testing::MakeModel();
  auto* init = m.mutable_graph()->add_initializer();
  init->set_name("big_weight");
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->add_dims(4);
  init->set_data_location(onnx::TensorProto::EXTERNAL);
  auto imported = ImportOnnxBytes(m.SerializeAsString(), "ext.onnx");
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(imported.status().message(), AllOf(HasSubstr("ext.onnx"), HasSubstr("big_weight")));
}

TEST(OnnxImporterTest, ConstantNodesBecomeConstants) {
  auto m = q8::testing::MakeModel();
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {3});
  q8::testing::AddConstantFloats(g, "c0", "k", {1.f, 2.f, 3.f});
  q8::testing::AddNode(g, "Add", "add0", {"x", "k"}, {"y"});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {3}, true);
  auto imported = ImportOnnxBytes(m.SerializeAsString(), "const.onnx");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->nodes.size(), 1u);
  const Tensor* k = imported->FindConstant("k");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->data_as<float>()[2], 3.f);

  // And the model runs: y = x + k.
  auto model = LoadModel(q8::testing::WriteModel(m, "const.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  float x[] = {10, 20, 30};
  RunContext ctx;
  auto y = (*model)->Run(ctx, {TensorView{DType::kFloat32, {3}, x}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ((*y)[0].data_as<float>()[0], 11.f);
  EXPECT_EQ((*y)[0].data_as<float>()[2], 33.f);
}

TEST(ModelInfoTest, DescribesBoundaryQuantizationAndProducers) {
  auto model = LoadModel(MlpQdq());
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  EXPECT_EQ(info.format, "onnx");
  EXPECT_EQ(info.num_int8_kernels, 3);  // fc1..fc3 on int8 oneDNN matmul
  ASSERT_EQ(info.inputs.size(), 1u);
  ASSERT_TRUE(info.inputs[0].quant.has_value()) << "input is quantized by input_QuantizeLinear";
  EXPECT_EQ(info.inputs[0].quant->storage, DType::kUint8);
  EXPECT_EQ(info.inputs[0].quant->scales.size(), 1u);
  EXPECT_GT(info.inputs[0].quant->scales[0], 0.f);
  EXPECT_EQ(info.outputs[0].name, "logits");
  EXPECT_EQ(info.outputs[0].producer_op, "Identity");
  EXPECT_EQ(info.outputs[0].dtype, DType::kFloat32);
  bool found = false;
  for (const auto& t : info.tensors) {
    if (t.name == "/fc1/Relu_output_0_QuantizeLinear_Output") {
      found = true;
      EXPECT_EQ(t.dtype, DType::kUint8);
      EXPECT_EQ(t.producer_op, "QuantizeLinear");
      ASSERT_TRUE(t.quant.has_value());
    }
  }
  EXPECT_TRUE(found) << "every named tensor is described";
}

TEST(RunValidationTest, WrongDtypeAndShapeAreInvalidArgumentWithExpectations) {
  auto model = LoadModel(MlpQdq());
  ASSERT_TRUE(model.ok()) << model.status();
  RunContext ctx;
  std::vector<int32_t> ints(784);
  auto r = (*model)->Run(ctx, {TensorView{DType::kInt32, {1, 784}, ints.data()}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), AllOf(HasSubstr("'input'"), HasSubstr("float32"), HasSubstr("int32")));
  std::vector<float> f(780);
  r = (*model)->Run(ctx, {TensorView{DType::kFloat32, {1, 780}, f.data()}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), AllOf(HasSubstr("[?,784]"), HasSubstr("[1,780]")));
  r = (*model)->Run(ctx, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

// Softmax changed meaning at opset 13: before, the input is flattened to 2-D at `axis`
// (default 1) and each row normalised over all the dims from `axis` on; from 13, along one
// axis (default -1). Regression: opset-11 models were run with the opset-13 meaning.
TEST(OnnxSoftmaxTest, OpsetBefore13NormalisesOverEveryDimFromAxisOn) {
  const std::vector<float> x = [] {
    std::vector<float> v(2 * 3 * 4);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i)) * 3.f;
    return v;
  }();
  // Expected, by the definition: rows of 12 (opset 11, default axis 1) or of 4 (opset 13,
  // default axis -1).
  auto expected = [&](size_t row) {
    std::vector<float> y(x.size());
    for (size_t r = 0; r < x.size() / row; ++r) {
      float m = -1e30f, sum = 0.f;
      for (size_t i = 0; i < row; ++i) m = std::max(m, x[r * row + i]);
      for (size_t i = 0; i < row; ++i) sum += std::exp(x[r * row + i] - m);
      for (size_t i = 0; i < row; ++i) y[r * row + i] = std::exp(x[r * row + i] - m) / sum;
    }
    return y;
  };
  for (const auto& [opset, row] : {std::pair<int, size_t>{11, 12}, {13, 4}}) {
    onnx::ModelProto m = q8::testing::MakeModel(opset);
    auto* g = m.mutable_graph();
    q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {2, 3, 4});
    q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {2, 3, 4}, /*output=*/true);
    q8::testing::AddNode(g, "Softmax", "softmax", {"x"}, {"y"});
    auto model = LoadModel(
        q8::testing::WriteModel(m, "softmax_opset" + std::to_string(opset) + ".onnx"));
    ASSERT_TRUE(model.ok()) << model.status();
    RunContext ctx;
    auto out = (*model)->Run(ctx, {TensorView{DType::kFloat32, {2, 3, 4}, x.data()}});
    ASSERT_TRUE(out.ok()) << out.status();
    const std::vector<float> want = expected(row);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR((*out)[0].data_as<float>()[i], want[i], 1e-6) << "opset " << opset << " i " << i;
    }
  }
}

// Old opsets are taken op by op: an opset-9 float model (the kind older exporters wrote, the
// v1 of many deployments) loads when each of its ops' definitions in opset 9 is one the
// kernels implement. Expected values worked out from the definitions: y = relu(x W + b).
TEST(OnnxOpVersionTest, Opset9FloatModelLoadsAndRuns) {
  onnx::ModelProto m = q8::testing::MakeModel(9);
  m.set_ir_version(4);
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {1, 2});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {1, 3}, /*output=*/true);
  q8::testing::AddInitializer<float>(g, "W", onnx::TensorProto::FLOAT, {2, 3},
                                     {1, -1, 2, 0.5f, 3, -4});
  q8::testing::AddInitializer<float>(g, "b", onnx::TensorProto::FLOAT, {3}, {0.25f, -10, 1});
  q8::testing::AddNode(g, "MatMul", "matmul", {"x", "W"}, {"xw"});
  q8::testing::AddNode(g, "Add", "add", {"xw", "b"}, {"pre"});
  q8::testing::AddNode(g, "Relu", "relu", {"pre"}, {"y"});
  auto model = LoadModel(q8::testing::WriteModel(m, "opset9_mlp.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const float x[2] = {2, 4};
  RunContext ctx;
  auto out = (*model)->Run(ctx, {TensorView{DType::kFloat32, {1, 2}, x}});
  ASSERT_TRUE(out.ok()) << out.status();
  // x W = [2 + 2, -2 + 12, 4 - 16] = [4, 10, -12]; + b = [4.25, 0, -11]; relu.
  const float want[3] = {4.25f, 0.f, 0.f};
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ((*out)[0].data_as<float>()[i], want[i]) << i;
}

// Reshape 1 took its shape as an attribute: an opset-4 model selects it, and the load says
// so rather than reading a missing shape input.
TEST(OnnxOpVersionTest, OpDefinitionTheKernelsDoNotImplementFailsTheLoad) {
  onnx::ModelProto m = q8::testing::MakeModel(4);
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {2, 3});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {6}, /*output=*/true);
  auto* n = q8::testing::AddNode(g, "Reshape", "flatten_it", {"x"}, {"y"});
  auto* a = n->add_attribute();
  a->set_name("shape");
  a->set_type(onnx::AttributeProto::INTS);
  a->add_ints(6);
  const std::string path = q8::testing::WriteModel(m, "opset4_reshape.onnx");
  auto model = LoadModel(path);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(model.status().message(),
              AllOf(HasSubstr(path), HasSubstr("node 'flatten_it' (Reshape)"),
                    HasSubstr("opset 4 selects Reshape version 1"),
                    HasSubstr("implements versions 5, 13, 14"), HasSubstr("opset >= 5")));
}

TEST(OnnxOpVersionTest, OpNewerThanTheModelsOpsetIsInvalid) {
  onnx::ModelProto m = q8::testing::MakeModel(8);
  auto* g = m.mutable_graph();
  q8::testing::AddInput(g, "x", onnx::TensorProto::FLOAT, {4});
  q8::testing::AddInput(g, "y", onnx::TensorProto::FLOAT, {4}, /*output=*/true);
  q8::testing::AddNode(g, "Erf", "erf", {"x"}, {"y"});
  auto model = LoadModel(q8::testing::WriteModel(m, "opset8_erf.onnx"));
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(),
              AllOf(HasSubstr("node 'erf' (Erf)"),
                    HasSubstr("Erf does not exist in opset 8 (ONNX added it in opset 9)")));
}

// Every ONNX-domain op with a kernel says which versions it implements, so no kernel runs
// an old definition by accident; and the table is well formed.
TEST(OnnxOpVersionTest, EveryOnnxKernelHasItsVersionsListed) {
  for (const auto& [key, _] : dnnl_backend::KernelRegistry()) {
    if (key.find('.') != std::string::npos) continue;  // q8.* and com.microsoft.* ops
    EXPECT_NE(FindOnnxOpVersions(key), nullptr)
        << key << " has a kernel but no entry in engine/import/onnx_op_versions.cc";
  }
  for (const auto& op : OnnxOpVersionTable()) {
    EXPECT_TRUE(std::is_sorted(op.since_versions.begin(), op.since_versions.end())) << op.op_type;
    EXPECT_NE(std::find(op.since_versions.begin(), op.since_versions.end(),
                        op.oldest_implemented),
              op.since_versions.end())
        << op.op_type << ": oldest_implemented is not one of its versions";
    EXPECT_TRUE(std::string(op.op_type) == "Constant" ||
                dnnl_backend::KernelRegistry().count(op.op_type))
        << op.op_type << " is listed but has no kernel";
    // Opset 10 and later were accepted before the table existed and are covered by the
    // conformance cases: none may be refused now.
    EXPECT_LE(op.oldest_implemented, std::max(10, op.since_versions.front())) << op.op_type;
  }
}

}  // namespace
}  // namespace q8::engine
