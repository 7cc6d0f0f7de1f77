// The TensorFlow GraphDef importer against graphs and expected outputs written without
// TensorFlow (tests/fixtures/graphdef/make_graphdef_fixtures.py: the graphs through our
// own protos, the expectations from a numpy reference of TF's documented op semantics),
// plus load errors on hand-built inconsistent graphs.
//
// Tolerances (manifest.txt, from the generator; a case's own, or an output's own): int8
// results within 1 unit of the reference. Rounding rule: QuantizeV2 rounds as TF does
// (std::round, half away from zero; SCALED by its round_mode) and its tie fixtures match
// exactly; everywhere else the engine rounds half to even (QuantizeLinear, oneDNN's
// requantization) where TF rounds half away from zero or half up (FakeQuant's
// floor(v + 0.5)), and TF rounds a QuantizedBiasAdd's qint32 sum to its range's step —
// each moves a result by at most 1 unit, at a tie. Whole networks: their float outputs
// within 1.01 steps of their own quantization (the int8 value within 1 unit), and the
// *_taps variants expose the int8 tensors between layers as extra outputs, each checked
// to 1 unit. A 1-unit difference in one layer can move the next layer's sum across a
// rounding boundary, so this is a measured property of these fixtures, not a theorem;
// the ≥ 95 % exact count below keeps it from hiding systematic error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/npy.h"
#include "engine/engine.h"
#include "tensorflow/core/framework/graph.pb.h"
#include "tests/common/test_env.h"

namespace q8::engine {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string FixtureDir() { return q8::testing::SourceDir() + "/tests/fixtures/graphdef"; }

DType DTypeOfNpy(const std::string& d) {
  if (d == "float32") return DType::kFloat32;
  if (d == "uint8") return DType::kUint8;
  if (d == "int8") return DType::kInt8;
  return DType::kUnknown;
}

Tensor ReadNpy(const std::string& file) {
  auto host = q8::client::ReadNpyFile(q8::testing::RequireFile(FixtureDir() + "/" + file));
  EXPECT_TRUE(host.ok()) << host.status();
  if (!host.ok()) return Tensor();
  Tensor t(DTypeOfNpy(host->dtype), host->shape);
  EXPECT_EQ(t.byte_size(), host->data.size()) << file;
  std::memcpy(t.data(), host->data.data(), std::min(t.byte_size(), host->data.size()));
  return t;
}

double ValueAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32:
      return t.data_as<float>()[i];
    case DType::kUint8:
      return t.data_as<uint8_t>()[i];
    case DType::kInt8:
      return t.data_as<int8_t>()[i];
    default:
      return NAN;
  }
}

struct Case {
  std::string name, model;
  double tolerance = 0;
  int int8_kernels = 0;
  std::vector<std::pair<std::string, std::string>> inputs, outputs;  // tensor, file
  std::map<std::string, double> output_tolerance;                    // tensor → its own
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  std::ifstream in(FixtureDir() + "/manifest.txt");
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 4) continue;
    Case c;
    c.name = f[0];
    c.model = f[1];
    EXPECT_TRUE(absl::SimpleAtod(f[2], &c.tolerance));
    EXPECT_TRUE(absl::SimpleAtoi(f[3], &c.int8_kernels));
    for (size_t i = 4; i < f.size(); ++i) {
      std::vector<std::string> kv = absl::StrSplit(f[i], absl::MaxSplits('=', 3));
      if (kv.size() < 3) continue;
      (kv[0] == "in" ? c.inputs : c.outputs).emplace_back(kv[1], kv[2]);
      double tol = 0;
      if (kv.size() == 4 && absl::SimpleAtod(kv[3], &tol)) c.output_tolerance[kv[1]] = tol;
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

class GraphDefFixtureTest : public ::testing::TestWithParam<Case> {};

TEST_P(GraphDefFixtureTest, MatchesTheNumpyReferenceOfTfSemantics) {
  const Case& c = GetParam();
  auto model = LoadModel(q8::testing::RequireFile(FixtureDir() + "/" + c.model));
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  EXPECT_EQ(info.format, "graphdef");
  EXPECT_GE(info.num_int8_kernels, c.int8_kernels) << "the convs / matmuls must run int8";
  RecordProperty(c.name + ".int8_kernels", std::to_string(info.num_int8_kernels));
  std::vector<Tensor> inputs;
  std::vector<TensorView> views;
  for (const TensorInfo& want : info.inputs) {
    auto it = std::find_if(c.inputs.begin(), c.inputs.end(),
                           [&](const auto& p) { return p.first == want.name; });
    ASSERT_NE(it, c.inputs.end()) << "no fixture for graph input " << want.name;
    inputs.push_back(ReadNpy(it->second));
  }
  for (const Tensor& t : inputs) views.push_back(TensorView{t.dtype(), t.shape(), t.data()});
  RunContext ctx;
  auto out = (*model)->Run(ctx, views);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), c.outputs.size());
  for (const auto& [tensor, file] : c.outputs) {
    int index = -1;
    for (size_t i = 0; i < info.outputs.size(); ++i) {
      if (info.outputs[i].name == tensor) index = static_cast<int>(i);
    }
    ASSERT_GE(index, 0) << "graph has no output " << tensor;
    const Tensor want = ReadNpy(file);
    const Tensor& got = (*out)[index];
    ASSERT_EQ(got.dtype(), want.dtype()) << tensor;
    ASSERT_EQ(got.shape(), want.shape()) << tensor;
    double max_diff = 0;
    int64_t exact = 0;
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const double d = std::abs(ValueAt(got, i) - ValueAt(want, i));
      max_diff = std::max(max_diff, d);
      exact += d == 0 ? 1 : 0;
    }
    const double tolerance =
        c.output_tolerance.count(tensor) ? c.output_tolerance.at(tensor) : c.tolerance;
    EXPECT_LE(max_diff, tolerance) << c.name << " " << tensor;
    RecordProperty(c.name + "." + tensor + ".max_diff", std::to_string(max_diff));
    if (want.dtype() != DType::kFloat32) {
      // Ties are rare: nearly every quantized element matches exactly.
      EXPECT_GE(exact, want.num_elements() * 95 / 100) << c.name << " " << tensor;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GraphDefFixtureTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(GraphDefImporterTest, ManifestListsEveryFamily) {
  std::set<std::string> names;
  for (const Case& c : Cases()) names.insert(c.name);
  for (const char* want : {"float",
                           "float_text",
                           "quantize_graph",
                           "quantize_graph_conv",
                           "intel_fused",
                           "intel_variants",
                           "quantize_graph_dynamic",
                           "qat",
                           "float_ops",
                           "quant_ops",
                           "quantize_min_combined_quint8",
                           "quantize_min_first_qint8",
                           "quantize_scaled_qint8",
                           "dequantize_min_combined_qint8",
                           "dequantize_scaled_quint8",
                           "quantize_graph_taps",
                           "intel_fused_taps",
                           "qat_taps",
                           "qat_asym",
                           "qat_asym_taps",
                           "intel_modes",
                           "float_matmul",
                           "quantize_nodes_conv",
                           "float_tf_text",
                           "quantize_ties_min_first_qint8",
                           "quantize_ties_min_combined_quint8",
                           "quantize_ties_scaled_qint8",
                           "quantize_ties_scaled_qint8_half_to_even",
                           "quantize_scaled_quint8_narrow"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(GraphDefImporterTest, RenamedTensorsKeepTheirFloatNames) {
  auto info = DescribeModelFile(q8::testing::RequireFile(FixtureDir() + "/quantize_graph.pb"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, "graphdef");
  ASSERT_EQ(info->inputs.size(), 1u);
  EXPECT_EQ(info->inputs[0].name, "input:0");
  EXPECT_EQ(info->inputs[0].shape, (Shape{-1, 8, 8, 3}));
  // By TF tensor name; an NCHW-held tensor is "<tf name>@nchw" in the engine.
  std::map<std::string, std::string> original;
  for (const TensorInfo& t : info->tensors) {
    std::string& o = original[t.name.substr(0, t.name.find('@'))];
    if (o.empty()) o = t.original_name;
  }
  EXPECT_EQ(original["logits_eightbit_dequantize:0"], "logits:0");
  EXPECT_EQ(original["conv1/Relu_eightbit_requantize:0"], "conv1/Relu:0");
  EXPECT_EQ(original["pool1/MaxPool_eightbit_quantized:0"], "pool1/MaxPool:0");
  EXPECT_EQ(original["pool_features:0"], "") << "a name nothing renamed has no original";
  EXPECT_EQ(original["conv1/Relu:0"], "") << "quantize_graph's Dequantize keeps the float name";
  std::vector<std::string> outputs;
  for (const TensorInfo& t : info->outputs) outputs.push_back(t.name);
  EXPECT_THAT(outputs,
              ::testing::UnorderedElementsAre("logits_eightbit_dequantize:0", "pool_features:0"));
}

TEST(GraphDefImporterTest, SavedModelServesItsSignatureOutputs) {
  auto info =
      DescribeModelFile(q8::testing::RequireFile(FixtureDir() + "/saved_model/saved_model.pb"));
  ASSERT_TRUE(info.ok()) << info.status();
  std::vector<std::string> outputs;
  for (const TensorInfo& t : info->outputs) outputs.push_back(t.name);
  EXPECT_THAT(outputs, ::testing::ElementsAre("logits_eightbit_dequantize:0", "pool_features:0"))
      << "every signature's outputs, sorted";
  EXPECT_EQ(info->metadata["tf.signature.output.logits"], "logits_eightbit_dequantize:0");
  EXPECT_EQ(info->metadata["tf.signature.input.images"], "input:0");
}

// Every signature_def becomes a declaration the signature layer reads
// (server/signature/declaration.h), keys bound explicitly to their tensors.
TEST(GraphDefImporterTest, SavedModelSignatureDefsBecomeTheSignatureDeclaration) {
  auto info =
      DescribeModelFile(q8::testing::RequireFile(FixtureDir() + "/saved_model/saved_model.pb"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE(info->metadata.count("q8serve.signatures"));
  const std::string& decl = info->metadata.at("q8serve.signatures");
  EXPECT_THAT(decl, HasSubstr("name: \"serving_default\"\n"
                              "  inputs { name: \"images\" tensor: \"input:0\" }\n"
                              "  outputs { name: \"logits\" tensor: "
                              "\"logits_eightbit_dequantize:0\" }\n"));
  EXPECT_THAT(decl, HasSubstr("name: \"features\"\n"
                              "  inputs { name: \"pixels\" tensor: \"input:0\" }\n"
                              "  outputs { name: \"embedding\" tensor: \"pool_features:0\" }\n"));
  EXPECT_THAT(decl, HasSubstr("default_signature: \"serving_default\""));
  EXPECT_THAT(decl, ::testing::Not(HasSubstr("from_relu")));
  EXPECT_THAT(info->metadata["tf.warnings"],
              AllOf(HasSubstr("'from_relu' is not served"), HasSubstr("'conv1/Relu:0'"),
                    HasSubstr("not a Placeholder")));
}

// graph_transforms quantize_nodes names ("conv1/Relu/eightbit/requantize") resolve to the
// float name too.
TEST(GraphDefImporterTest, QuantizeNodesEightbitNamesKeepTheirFloatNames) {
  auto info = DescribeModelFile(q8::testing::RequireFile(FixtureDir() + "/quantize_nodes_conv.pb"));
  ASSERT_TRUE(info.ok()) << info.status();
  std::map<std::string, std::string> original;
  for (const TensorInfo& t : info->tensors) {
    std::string& o = original[t.name.substr(0, t.name.find('@'))];
    if (o.empty()) o = t.original_name;
  }
  EXPECT_EQ(original["conv1/Relu/eightbit/requantize:0"], "conv1/Relu:0");
  ASSERT_EQ(info->outputs.size(), 1u);
  EXPECT_EQ(info->outputs[0].original_name, "conv1/Relu:0");
}

// A .pbtxt as TF writes it: library {}, experimental_debug_info, and debug_info (which
// our protos leave undeclared: skipped, and said so).
TEST(GraphDefImporterTest, TfWrittenTextGraphWithLibraryAndDebugInfoLoads) {
  auto info = DescribeModelFile(q8::testing::RequireFile(FixtureDir() + "/float_tf.pbtxt"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->outputs.size(), 2u);
  EXPECT_THAT(info->metadata["tf.warnings"], AllOf(HasSubstr("debug_info"), HasSubstr("line ")));
}

TEST(GraphDefImporterTest, VersionDirectoriesProbeTheTfFileNames) {
  std::vector<std::string> names = ModelFileNames();
  for (const char* want : {"model.pb", "saved_model.pb", "model.pbtxt"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(names.front(), "model.onnx");
}

// ------------------------------------------------------------------ load errors

class GraphDefErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("q8-graphdef-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".pb"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  tensorflow::NodeDef* Node(const std::string& name, const std::string& op,
                            std::vector<std::string> inputs = {}) {
    tensorflow::NodeDef* n = g_.add_node();
    n->set_name(name);
    n->set_op(op);
    for (const auto& in : inputs) n->add_input(in);
    return n;
  }
  // Shape [-1, 2] unless `shaped` is false (no shape attr: unknown rank).
  void Placeholder(const std::string& name, int dtype = tensorflow::DT_FLOAT, bool shaped = true) {
    auto* n = Node(name, "Placeholder");
    (*n->mutable_attr())["dtype"].set_type(static_cast<tensorflow::DataType>(dtype));
    if (!shaped) return;
    auto* shape = (*n->mutable_attr())["shape"].mutable_shape();
    shape->add_dim()->set_size(-1);
    shape->add_dim()->set_size(2);
  }
  void Scalar(const std::string& name, float v) {
    auto* n = Node(name, "Const");
    (*n->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
    auto* t = (*n->mutable_attr())["value"].mutable_tensor();
    t->set_dtype(tensorflow::DT_FLOAT);
    t->add_float_val(v);
  }
  absl::Status Load() {
    std::ofstream(path_, std::ios::binary) << g_.SerializeAsString();
    return LoadModel(path_).status();
  }

  tensorflow::GraphDef g_;
  std::string path_;
};

TEST_F(GraphDefErrorTest, UnknownOpNamesFileNodeOpAndTheSupportedOps) {
  Placeholder("x");
  Node("custom", "MyFancyOp", {"x"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("'custom'"), HasSubstr("'MyFancyOp'"),
                                 HasSubstr("supported: "), HasSubstr("QuantizedConv2D"),
                                 HasSubstr("FakeQuantWithMinMaxVars")));
}

TEST_F(GraphDefErrorTest, ConstWhoseDtypeSaysFloatButHoldsInt8) {
  Placeholder("x");
  auto* n = Node("w", "Const");
  (*n->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
  auto* t = (*n->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_INT8);
  t->mutable_tensor_shape()->add_dim()->set_size(2);
  t->set_tensor_content(std::string("\x01\x02", 2));
  Node("y", "AddV2", {"x", "w"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'w' (Const)"), HasSubstr("dtype says float"),
                                 HasSubstr("holds int8")));
}

TEST_F(GraphDefErrorTest, TensorContentOfTheWrongSize) {
  Placeholder("x");
  auto* n = Node("w", "Const");
  (*n->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
  auto* t = (*n->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_FLOAT);
  t->mutable_tensor_shape()->add_dim()->set_size(4);
  t->set_tensor_content(std::string(4, '\0'));  // int8-sized data under a float dtype
  Node("y", "AddV2", {"x", "w"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("'w' (Const)"), HasSubstr("4 bytes"), HasSubstr("needs 16")));
}

TEST_F(GraphDefErrorTest, QuantizeV2WithARunTimeRangeAsksToFreezeIt) {
  Placeholder("x");
  Placeholder("lo");
  Scalar("hi", 1.f);
  auto* q = Node("q", "QuantizeV2", {"x", "lo", "hi"});
  (*q->mutable_attr())["T"].set_type(tensorflow::DT_QUINT8);
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'q' (QuantizeV2)"), HasSubstr("min_range"),
                                 HasSubstr("known at load time")));
}

TEST_F(GraphDefErrorTest, MissingMinMaxInputs) {
  Placeholder("x");
  auto* q = Node("q", "QuantizeV2", {"x"});
  (*q->mutable_attr())["T"].set_type(tensorflow::DT_QUINT8);
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'q' (QuantizeV2)"), HasSubstr("1 data inputs")));
}

TEST_F(GraphDefErrorTest, QuantizedFilterWithNoRange) {
  Placeholder("x", tensorflow::DT_QUINT8);
  Scalar("lo", 0.f);
  Scalar("hi", 1.f);
  auto* w = Node("w", "Const");
  (*w->mutable_attr())["dtype"].set_type(tensorflow::DT_QUINT8);
  auto* t = (*w->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_QUINT8);
  for (int d : {1, 1, 1, 1}) t->mutable_tensor_shape()->add_dim()->set_size(d);
  t->add_int_val(7);
  Placeholder("w_min");  // the filter's range is not a constant: nothing to dequantize with
  Scalar("w_max", 1.f);
  auto* conv = Node("conv", "QuantizedConv2D", {"x", "w", "lo", "hi", "w_min", "w_max"});
  (*conv->mutable_attr())["padding"].set_s("VALID");
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'conv' (QuantizedConv2D)"), HasSubstr("min_filter")));
}

TEST_F(GraphDefErrorTest, FilterTypeDisagreesWithTfilter) {
  Placeholder("x", tensorflow::DT_QUINT8);
  Scalar("lo", 0.f);
  Scalar("hi", 1.f);
  auto* w = Node("w", "Const");
  (*w->mutable_attr())["dtype"].set_type(tensorflow::DT_QINT8);
  auto* t = (*w->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_QINT8);
  for (int d : {1, 1, 1, 1}) t->mutable_tensor_shape()->add_dim()->set_size(d);
  t->add_int_val(7);
  auto* conv = Node("conv", "QuantizedConv2D", {"x", "w", "lo", "hi", "lo", "hi"});
  (*conv->mutable_attr())["padding"].set_s("VALID");
  (*conv->mutable_attr())["Tfilter"].set_type(tensorflow::DT_QUINT8);
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("Tfilter says quint8"), HasSubstr("holds int8")));
}

TEST_F(GraphDefErrorTest, RequantizeOfARunTimeRangeSaysToFreezeIt) {
  Placeholder("x");
  Scalar("lo", -1.f);
  Scalar("hi", 1.f);
  auto* q = Node("q", "QuantizeV2", {"x", "lo", "hi"});
  (*q->mutable_attr())["T"].set_type(tensorflow::DT_QUINT8);
  (*q->mutable_attr())["mode"].set_s("MIN_FIRST");
  Node("range", "RequantizationRange", {"q", "q:1", "q:2"});
  Node("rq", "Requantize", {"q", "q:1", "q:2", "range", "range:1"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'rq' (Requantize)"), HasSubstr("freeze")));
}

// Frozen graphs keep NoOps and control edges ("^node"), and list nodes in any order.
TEST_F(GraphDefErrorTest, ControlEdgesNoOpsAndUnsortedNodesLoad) {
  Node("y", "Relu", {"x", "^init"});  // before its input: GraphDefs need not be sorted
  Node("init", "NoOp");
  Placeholder("x");
  std::ofstream(path_, std::ios::binary) << g_.SerializeAsString();
  auto model = LoadModel(path_);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ((*model)->info().outputs.size(), 1u);
  EXPECT_EQ((*model)->info().outputs[0].name, "y:0");
  const float x[4] = {-1.f, 2.f, -3.f, 4.f};
  RunContext ctx;
  auto out = (*model)->Run(ctx, {TensorView{DType::kFloat32, {2, 2}, x}});
  ASSERT_TRUE(out.ok()) << out.status();
  const float* y = (*out)[0].data_as<float>();
  EXPECT_EQ(std::vector<float>(y, y + 4), (std::vector<float>{0.f, 2.f, 0.f, 4.f}));
}

TEST_F(GraphDefErrorTest, PlaceholderOfUnknownRank) {
  Placeholder("x", tensorflow::DT_FLOAT, /*shaped=*/false);
  Node("y", "Relu", {"x"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'x' (Placeholder)"), HasSubstr("no known rank")));
}

// Regression: a float op's T was never compared with its input, so Relu (T = float) on
// quint8 data ran on the raw bytes.
TEST_F(GraphDefErrorTest, FloatOpOnQuantizedDataNamesTheAttributeAndTheType) {
  Placeholder("x", tensorflow::DT_QUINT8);
  (*Node("y", "Relu", {"x"})->mutable_attr())["T"].set_type(tensorflow::DT_FLOAT);
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("'y' (Relu)"),
                                 HasSubstr("attribute T says float"), HasSubstr("holds uint8")));
}

TEST_F(GraphDefErrorTest, FloatOpWithAQuantizedTypeAttribute) {
  Placeholder("x", tensorflow::DT_QUINT8);
  (*Node("y", "Relu", {"x"})->mutable_attr())["T"].set_type(tensorflow::DT_QUINT8);
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'y' (Relu)"), HasSubstr("attribute T is quint8"),
                                 HasSubstr("supported: float")));
}

// The quantized data-movement ops and Requantize check T / Tinput against their input.
struct TypeCase {
  const char* op;
  const char* attr;
  int type;
  const char* says;
};

TEST_F(GraphDefErrorTest, QuantizedOpsCheckTheirTypeAttributeAgainstTheInput) {
  const TypeCase cases[] = {
      {"QuantizedMaxPool", "T", tensorflow::DT_QINT8, "attribute T says qint8"},
      {"QuantizedAvgPool", "T", tensorflow::DT_QINT8, "attribute T says qint8"},
      {"QuantizedReshape", "T", tensorflow::DT_QINT8, "attribute T says qint8"},
      {"QuantizedConcat", "T", tensorflow::DT_QINT8, "attribute T says qint8"},
      {"Requantize", "Tinput", tensorflow::DT_QINT32, "attribute Tinput says qint32"},
  };
  for (const TypeCase& tc : cases) {
    g_.Clear();
    Placeholder("x", tensorflow::DT_QUINT8);
    Scalar("lo", -1.f);
    Scalar("hi", 1.f);
    auto* shape = Node("shape", "Const");
    (*shape->mutable_attr())["dtype"].set_type(tensorflow::DT_INT32);
    auto* t = (*shape->mutable_attr())["value"].mutable_tensor();
    t->set_dtype(tensorflow::DT_INT32);
    t->mutable_tensor_shape()->add_dim()->set_size(1);
    t->add_int_val(-1);
    std::vector<std::string> inputs{"x", "lo", "hi"};
    const std::string op = tc.op;
    if (op == "QuantizedReshape") inputs = {"x", "shape", "lo", "hi"};
    if (op == "QuantizedConcat") inputs = {"shape", "x", "lo", "hi"};
    if (op == "Requantize") inputs = {"x", "lo", "hi", "lo", "hi"};
    auto* n = Node("n", tc.op, inputs);
    (*n->mutable_attr())[tc.attr].set_type(static_cast<tensorflow::DataType>(tc.type));
    (*n->mutable_attr())["ksize"].mutable_list()->add_i(1);
    absl::Status s = Load();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << tc.op << ": " << s;
    EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr(absl::StrCat("'n' (", op, ")")),
                                   HasSubstr(tc.says), HasSubstr("'x' holds uint8")))
        << tc.op;
  }
}

// TF's QuantizeV2 accepts HALF_TO_EVEN only with mode SCALED; so does the importer.
TEST_F(GraphDefErrorTest, QuantizeV2HalfToEvenOutsideScaled) {
  Placeholder("x");
  Scalar("lo", -1.f);
  Scalar("hi", 1.f);
  auto* q = Node("q", "QuantizeV2", {"x", "lo", "hi"});
  (*q->mutable_attr())["T"].set_type(tensorflow::DT_QUINT8);
  (*q->mutable_attr())["mode"].set_s("MIN_FIRST");
  (*q->mutable_attr())["round_mode"].set_s("HALF_TO_EVEN");
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'q' (QuantizeV2)"), HasSubstr("HALF_TO_EVEN"),
                                 HasSubstr("only with mode SCALED")));
}

TEST_F(GraphDefErrorTest, TextGraphSyntaxErrorSaysWhere) {
  path_ += "txt";
  std::ofstream(path_) << "node {\n  name: \"x\"\n  op: \"Placeholder\"\n  attr { key: 3 }\n}\n";
  absl::Status s = LoadModel(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("not a text-format GraphDef"), HasSubstr("line 4")));
}

TEST_F(GraphDefErrorTest, NotAGraph) {
  std::ofstream(path_, std::ios::binary) << "\xff\xff\xff this is not a protobuf";
  absl::Status s = LoadModel(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("not a binary GraphDef")));
}

TEST_F(GraphDefErrorTest, DanglingInput) {
  Placeholder("x");
  Node("y", "Relu", {"nope"});
  absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'y' (Relu)"), HasSubstr("'nope'")));
}

}  // namespace
}  // namespace q8::engine
