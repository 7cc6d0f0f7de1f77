// Table-driven resolver tests over the rename styles of real quantization tools. Each
// row: a quantized graph (as ModelInfo: its inputs, outputs and boundary nodes), a
// declared logical name, and the binding, rule and conversion expected — or, for
// ambiguity and failure rows, what the error message must say.
#include "server/signature/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/signature/name_normalizer.h"

namespace q8::server {
namespace {

using engine::DType;
using engine::ModelInfo;
using engine::Shape;
using ::testing::AllOf;
using ::testing::HasSubstr;

engine::QuantParams U8(float scale, int64_t zp) {
  engine::QuantParams q;
  q.scales = {scale};
  q.zero_points = {zp};
  q.storage = DType::kUint8;
  return q;
}

// A small builder so each row reads like the graph it describes.
struct Graph {
  ModelInfo info;
  Graph() { info.path = "/repo/m/2/model.onnx"; }
  Graph& In(const std::string& name, DType t, Shape s, std::optional<engine::QuantParams> q = {}) {
    info.inputs.push_back({name, t, std::move(s), std::move(q), "", "", ""});
    return *this;
  }
  Graph& Out(const std::string& name, DType t, Shape s, std::optional<engine::QuantParams> q = {},
             const std::string& original_name = "") {
    info.outputs.push_back({name, t, std::move(s), std::move(q), "", "", original_name});
    return *this;
  }
  Graph& Node(const std::string& op, const std::string& name, std::vector<std::string> in,
              std::vector<std::string> out) {
    info.nodes.push_back({name, op, "", std::move(in), std::move(out)});
    return *this;
  }
};

DeclaredTensor Declare(const std::string& name, std::optional<DType> t = DType::kFloat32,
                       std::optional<Shape> s = std::nullopt, const std::string& tensor = "") {
  return DeclaredTensor{name, tensor, t, s};
}

struct Row {
  const char* style;  // the tool whose renames the graph mimics
  Graph graph;
  std::vector<DeclaredTensor> inputs, outputs;
  // Expected for the last declared output (or input when there are no outputs).
  std::string tensor, rule;
  Conversion conversion = Conversion::kNone;
};

std::vector<Row> Rows() {
  std::vector<Row> rows;
  // onnxruntime quantize_static QDQ keeps graph I/O names.
  rows.push_back({"ort_qdq_same_names",
                  Graph().In("images", DType::kFloat32, {-1, 64}).Out("logits", DType::kFloat32, {-1, 10}),
                  {Declare("images")}, {Declare("logits")}, "logits", "exact"});
  // TF Lite converter: serving_default_<name>:0 in, StatefulPartitionedCall:0 out.
  rows.push_back({"tflite_converter",
                  Graph()
                      .In("serving_default_images:0", DType::kFloat32, {1, 64})
                      .Out("StatefulPartitionedCall:0", DType::kFloat32, {1, 10}),
                  {Declare("images")}, {Declare("logits")}, "StatefulPartitionedCall:0",
                  "unique_role"});
  // onnxruntime QDQ with quantized graph I/O: the float names are gone, the quantized
  // tensors carry them with a suffix; clients keep sending float.
  rows.push_back({"ort_qdq_uint8_io",
                  Graph()
                      .In("images_QuantizeLinear_Output", DType::kUint8, {-1, 64}, U8(0.0039f, 0))
                      .Out("logits_QuantizeLinear_Output", DType::kUint8, {-1, 10}, U8(0.2f, 128)),
                  {Declare("images", DType::kFloat32, Shape{-1, 64})}, {Declare("logits")},
                  "logits_QuantizeLinear_Output", "normalized", Conversion::kDequantize});
  // TF quantize_graph: the output is a Dequantize op's tensor named after the node.
  rows.push_back({"tf_quantize_graph",
                  Graph()
                      .In("images:0", DType::kFloat32, {-1, 64})
                      .Out("logits/Dequantize:0", DType::kFloat32, {-1, 10}),
                  {Declare("images")}, {Declare("logits")}, "logits/Dequantize:0", "normalized"});
  // TF graph_transforms quantize_nodes: `output_tensor:0` became `quant_conv1/output_quant`,
  // but the Dequantize node feeding it still carries the old name.
  rows.push_back({"tf_quantize_nodes_renamed_node",
                  Graph()
                      .In("input:0", DType::kFloat32, {-1, 64})
                      .Out("quant_conv1/output_quant", DType::kFloat32, {-1, 10})
                      .Out("aux", DType::kFloat32, {-1, 10})
                      .Node("QuantizedConv2D", "quant_conv1", {"input:0"}, {"conv_q"})
                      .Node("DequantizeLinear", "output_tensor/Dequantize", {"conv_q"},
                            {"quant_conv1/output_quant"}),
                  {Declare("input")}, {Declare("output_tensor")}, "quant_conv1/output_quant",
                  "boundary_walk"});
  // TF GraphDef after quantize_graph: the Dequantize's name keeps no trace of 'logits'
  // the normalizer can strip, but the importer derived the float name from the chain
  // (logits_eightbit_quantized_bias_add → Requantize → Dequantize); 'aux' has the same
  // dtype and shape, so only original_name can tell them apart.
  rows.push_back({"tf_graphdef_original_name",
                  Graph()
                      .In("input:0", DType::kFloat32, {-1, 8, 8, 3})
                      .Out("aux:0", DType::kFloat32, {-1, 4})
                      .Out("logits_eightbit_dequantize:0", DType::kFloat32, {-1, 4}, std::nullopt,
                           "logits:0"),
                  {Declare("input:0")}, {Declare("logits:0")}, "logits_eightbit_dequantize:0",
                  "original_name"});
  // The same graph, logical name without TF's output index: matched after normalization.
  rows.push_back({"tf_graphdef_original_name_normalized",
                  Graph()
                      .In("input:0", DType::kFloat32, {-1, 8, 8, 3})
                      .Out("aux:0", DType::kFloat32, {-1, 4})
                      .Out("logits_eightbit_dequantize:0", DType::kFloat32, {-1, 4}, std::nullopt,
                           "logits:0"),
                  {Declare("input")}, {Declare("logits")}, "logits_eightbit_dequantize:0",
                  "original_name"});
  // PyTorch / NNCF ONNX export: numbered input, node-path output names.
  rows.push_back({"pytorch_nncf_export",
                  Graph()
                      .In("input.1", DType::kFloat32, {-1, 3, 32, 32})
                      .Out("/classifier/Gemm_output_0", DType::kFloat32, {-1, 10}),
                  {Declare("images", DType::kFloat32, Shape{-1, 3, 32, 32})}, {Declare("logits")},
                  "/classifier/Gemm_output_0", "unique_role"});
  // onnxruntime QOperator: the quantized output is dequantized by q8serve.
  rows.push_back({"ort_qoperator_uint8_out",
                  Graph()
                      .In("images", DType::kFloat32, {-1, 64})
                      .Out("logits_quantized", DType::kUint8, {-1, 10}, U8(0.1f, 100)),
                  {Declare("images")}, {Declare("logits")}, "logits_quantized", "normalized",
                  Conversion::kDequantize});
  // Shapes disambiguate: only one output fits [?,10].
  rows.push_back({"shape_filters_candidates",
                  Graph()
                      .In("x", DType::kFloat32, {-1, 64})
                      .Out("features", DType::kFloat32, {-1, 32})
                      .Out("scores", DType::kFloat32, {-1, 10}),
                  {Declare("x")}, {Declare("logits", DType::kFloat32, Shape{-1, 10})}, "scores",
                  "unique_role"});
  // An explicit mapping to the tensor behind a DequantizeLinear output.
  rows.push_back({"explicit_through_boundary",
                  Graph()
                      .In("x", DType::kFloat32, {-1, 64})
                      .Out("y_dq", DType::kFloat32, {-1, 10})
                      .Out("z", DType::kFloat32, {-1, 10})
                      .Node("DequantizeLinear", "dq", {"y_q"}, {"y_dq"}),
                  {Declare("x")}, {Declare("logits", DType::kFloat32, std::nullopt, "y_q")}, "y_dq",
                  "explicit"});
  return rows;
}

class ResolverTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(ResolverTableTest, BindsWithTheExpectedRule) {
  const Row& row = GetParam();
  DeclaredSignature d{"serving_default", row.inputs, row.outputs};
  absl::StatusOr<Signature> sig = ResolveSignature(d, "version 1", row.graph.info, nullptr);
  ASSERT_TRUE(sig.ok()) << sig.status();
  const SignatureTensor& t = sig->outputs.back();
  EXPECT_EQ(t.info.name, row.tensor);
  EXPECT_EQ(t.rule, row.rule);
  EXPECT_EQ(t.conversion, row.conversion);
  EXPECT_EQ(t.logical_name, row.outputs.back().logical_name);
  EXPECT_EQ(t.dtype, DType::kFloat32) << "clients keep float";
  EXPECT_EQ(t.source, "version 1");
  EXPECT_FALSE(t.explanation.empty());
  ASSERT_EQ(sig->inputs.size(), row.graph.info.inputs.size()) << "every graph input is bound";
}

INSTANTIATE_TEST_SUITE_P(RenameStyles, ResolverTableTest, ::testing::ValuesIn(Rows()),
                         [](const auto& info) { return std::string(info.param.style); });

absl::Status ResolveError(const Graph& g, std::vector<DeclaredTensor> in,
                          std::vector<DeclaredTensor> out, const ReferenceAlignment* ref = nullptr) {
  DeclaredSignature d{"serving_default", std::move(in), std::move(out)};
  return ResolveSignature(d, "signatures.pbtxt", g.info, ref).status();
}

TEST(ResolverErrorTest, AmbiguityListsCandidatesWithDtypeAndShape) {
  Graph g;
  g.In("x", DType::kFloat32, {-1, 64})
      .Out("logits_quant", DType::kUint8, {-1, 10}, U8(0.1f, 3))
      .Out("logits_dequantized", DType::kFloat32, {-1, 10});
  absl::Status s = ResolveError(g, {Declare("x")}, {Declare("logits")});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("ambiguous under rule 'normalized'"),
                                 HasSubstr("'logits_quant' uint8 [?,10] quant(uint8 scale=0.1 zero_point=3)"),
                                 HasSubstr("'logits_dequantized' float32 [?,10]"),
                                 HasSubstr("signatures.pbtxt"), HasSubstr("tensor: ")));
}

TEST(ResolverErrorTest, NoMatchListsTheGraphAndWhatWasTried) {
  Graph g;
  g.In("x", DType::kFloat32, {-1, 64}).Out("ids", DType::kInt32, {-1}).Out("counts", DType::kInt32, {-1});
  absl::Status s = ResolveError(g, {Declare("x")}, {Declare("logits", DType::kFloat32, Shape{-1, 10})});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("output 'logits' float32 [?,10]"), HasSubstr("no rule matched"),
                    HasSubstr("exact, original_name, normalized, boundary_walk, reference_model, "
                              "unique_role"),
                    HasSubstr("'ids' int32 [?]"), HasSubstr("'counts' int32 [?]"),
                    HasSubstr("/repo/m/2/model.onnx")));
}

TEST(ResolverErrorTest, FloatClientOverAnUnquantizedIntTensorDoesNotFit) {
  Graph g;  // uint8 without quantization parameters: nothing to dequantize with.
  g.In("x", DType::kFloat32, {-1, 64}).Out("logits_quantized", DType::kUint8, {-1, 10});
  absl::Status s = ResolveError(g, {Declare("x")}, {Declare("logits")});
  EXPECT_THAT(s.message(), HasSubstr("no rule matched"));
}

TEST(ResolverErrorTest, UnboundGraphInputIsReported) {
  Graph g;
  g.In("images", DType::kFloat32, {-1, 64}).In("mask", DType::kFloat32, {-1, 64}).Out("y", DType::kFloat32, {-1, 10});
  absl::Status s = ResolveError(g, {Declare("images")}, {Declare("y")});
  EXPECT_THAT(s.message(), AllOf(HasSubstr("leaves graph input 'mask' float32 [?,64] unbound"),
                                 HasSubstr("tensor: \"mask\"")));
}

TEST(ResolverErrorTest, ExplicitTensorThatDoesNotExist) {
  Graph g;
  g.In("x", DType::kFloat32, {-1, 64}).Out("y", DType::kFloat32, {-1, 10});
  absl::Status s = ResolveError(g, {Declare("x")}, {Declare("logits", DType::kFloat32, std::nullopt, "nope")});
  EXPECT_THAT(s.message(), AllOf(HasSubstr("tensor 'nope' is not a graph output of model.onnx"),
                                 HasSubstr("graph outputs: 'y' float32 [?,10]")));
}

TEST(ResolverErrorTest, ExplicitTensorBoundTwice) {
  Graph g;
  g.In("x", DType::kFloat32, {-1, 64}).Out("y", DType::kFloat32, {-1, 10});
  absl::Status s = ResolveError(
      g, {Declare("x")},
      {Declare("a", DType::kFloat32, std::nullopt, "y"), Declare("b", DType::kFloat32, std::nullopt, "y")});
  EXPECT_THAT(s.message(), HasSubstr("tensor 'y' is already bound to 'a'"));
}

TEST(ResolverReferenceTest, ReferenceBindsWhatNamesCannot) {
  Graph g;  // onnxruntime QOperator: both outputs renamed beyond recognition.
  g.In("images", DType::kFloat32, {-1, 64})
      .Out("/head/Add_output_0", DType::kFloat32, {-1, 10})
      .Out("/aux/Add_output_0", DType::kFloat32, {-1, 10});
  ReferenceAlignment ref{"model_float.onnx", {{"images", 0}}, {{"logits", 0}, {"aux", 1}}, "3 heavy ops"};
  DeclaredSignature d{"serving_default", {Declare("images")}, {Declare("logits"), Declare("aux")}};
  absl::StatusOr<Signature> sig = ResolveSignature(d, "reference model model_float.onnx", g.info, &ref);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->outputs[0].info.name, "/head/Add_output_0");
  EXPECT_EQ(sig->outputs[0].rule, "reference_model");
  EXPECT_THAT(sig->outputs[0].explanation, HasSubstr("model_float.onnx"));
  EXPECT_EQ(sig->outputs[1].info.name, "/aux/Add_output_0");
  EXPECT_EQ(sig->inputs[0].rule, "exact");
}

TEST(ResolverReferenceTest, NameRuleContradictingTheReferenceIsAnError) {
  Graph g;
  g.In("images", DType::kFloat32, {-1, 64})
      .Out("logits_quantized", DType::kFloat32, {-1, 10})
      .Out("other", DType::kFloat32, {-1, 10});
  ReferenceAlignment ref{"model_float.onnx", {{"images", 0}}, {{"logits", 1}}, "3 heavy ops"};
  absl::Status s = ResolveError(g, {Declare("images")}, {Declare("logits")}, &ref);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("rule 'normalized' binds it to 'logits_quantized'"),
                                 HasSubstr("aligns it with 'other'")));
}

struct NormalizeRow {
  const char* in;
  const char* out;
};

class NormalizerTest : public ::testing::TestWithParam<NormalizeRow> {};

TEST_P(NormalizerTest, StripsToolDecorations) {
  EXPECT_EQ(NormalizeTensorName(GetParam().in).name, GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    Decorations, NormalizerTest,
    ::testing::Values(NormalizeRow{"images", "images"}, NormalizeRow{"images:0", "images"},
                      NormalizeRow{"serving_default_images:0", "images"},
                      NormalizeRow{"images_QuantizeLinear_Output", "images"},
                      NormalizeRow{"logits_DequantizeLinear_Output", "logits"},
                      NormalizeRow{"logits/Dequantize:0", "logits"},
                      NormalizeRow{"quant_logits", "logits"},
                      NormalizeRow{"logits_quantized", "logits"},
                      NormalizeRow{"logits_quant", "logits"},
                      NormalizeRow{"Logits_int8", "logits"},
                      NormalizeRow{"/fc3/Gemm_output_0", "fc3/gemm_output_0"},
                      NormalizeRow{"_quant", "_quant"}),
    [](const auto& info) { return std::to_string(info.index); });

}  // namespace
}  // namespace q8::server
