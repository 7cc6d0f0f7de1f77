// The TFLite importer on the real files of ../shared/testdata/models/tflite and on damaged
// copies of them: names and the signature declaration it embeds, quantization read from
// the file, the errors it must give (custom ops, inconsistent quantization) and that a
// truncated or corrupted file is a load error, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "engine/engine.h"
#include "tests/common/test_env.h"
#include "tests/common/tflite_patch.h"

namespace q8::engine {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string ModelPath(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SharedDir() + "/testdata/models/tflite/" + name +
                                  ".tflite");
}

std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A scratch .tflite file, removed at the end of the test.
class TempModel {
 public:
  explicit TempModel(const std::string& bytes) {
    path_ = (fs::temp_directory_path() / ("q8-tflite-" + std::to_string(getpid()) + "-" +
                                          std::to_string(counter_++) + ".tflite"))
                .string();
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempModel() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

using q8::testing::Flat;
using q8::testing::kModelSubgraphs;
using q8::testing::kQuantDimension;
using q8::testing::kQuantScale;
using q8::testing::kSubgraphTensors;
using q8::testing::kTensorQuantization;
using q8::testing::kTensorShape;

TEST(TfliteImporterTest, HelloWorldInt8NamesQuantizationAndSignature) {
  auto info = DescribeModelFile(ModelPath("hello_world_int8"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, "tflite");
  ASSERT_EQ(info->inputs.size(), 1u);
  ASSERT_EQ(info->outputs.size(), 1u);
  // The converter's renames, as MANIFEST.md lists them.
  const TensorInfo& in = info->inputs[0];
  const TensorInfo& out = info->outputs[0];
  EXPECT_EQ(in.name, "serving_default_dense_input:0");
  EXPECT_EQ(out.name, "StatefulPartitionedCall:0");
  EXPECT_EQ(in.dtype, DType::kInt8);
  EXPECT_EQ(in.shape, (Shape{1, 1}));
  ASSERT_TRUE(in.quant.has_value()) << "the int8 boundary must carry its scale / zero point";
  EXPECT_EQ(in.quant->storage, DType::kInt8);
  ASSERT_EQ(in.quant->zero_points.size(), 1u);
  EXPECT_EQ(in.quant->zero_points[0], -128);  // flatc --json of the file
  ASSERT_TRUE(out.quant.has_value());
  EXPECT_EQ(out.quant->storage, DType::kInt8);
  // The SignatureDef (serving_default: dense_input → dense_2) as an embedded declaration,
  // float32 at the client since the tensors are quantized.
  ASSERT_TRUE(info->metadata.count("q8serve.signatures"));
  const std::string& decl = info->metadata.at("q8serve.signatures");
  EXPECT_THAT(decl, HasSubstr("name: \"serving_default\""));
  EXPECT_THAT(decl, HasSubstr("inputs { name: \"dense_input\" tensor: "
                              "\"serving_default_dense_input:0\" dtype: \"float32\" }"));
  EXPECT_THAT(decl, HasSubstr("outputs { name: \"dense_2\" tensor: \"StatefulPartitionedCall:0\" "
                              "dtype: \"float32\" }"));
  EXPECT_THAT(decl, HasSubstr("default_signature: \"serving_default\""));
}

TEST(TfliteImporterTest, FloatModelDeclaresItsOwnDtypes) {
  auto info = DescribeModelFile(ModelPath("hello_world_float"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->inputs[0].dtype, DType::kFloat32);
  EXPECT_FALSE(info->inputs[0].quant.has_value());
  const std::string& decl = info->metadata.at("q8serve.signatures");
  EXPECT_THAT(decl, HasSubstr("inputs { name: \"dense_input\" tensor: "
                              "\"serving_default_dense_input:0\" }"));
}

TEST(TfliteImporterTest, NchwModelKeepsItsInputLayout) {
  auto info = DescribeModelFile(ModelPath("mobilenet_v2_quantized_1x3x224x224"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->inputs[0].name, "input.5");
  EXPECT_EQ(info->inputs[0].shape, (Shape{1, 3, 224, 224}));
  EXPECT_EQ(info->outputs[0].name, "Xq.1");
  EXPECT_EQ(info->outputs[0].shape, (Shape{1, 1000}));
  EXPECT_TRUE(info->inputs[0].quant.has_value());
  EXPECT_FALSE(info->metadata.count("q8serve.signatures")) << "the file has no SignatureDef";
}

TEST(TfliteImporterTest, CustomOpsFailWithFileOpIndexNamesAndSupportedOps) {
  const std::string path = ModelPath("audio_preprocessor_int8");
  auto model = LoadModel(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
  const std::string msg(model.status().message());
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("#0 custom op 'SignalWindow'"));
  EXPECT_THAT(msg, HasSubstr("custom op 'SignalFilterBank'"));
  EXPECT_THAT(msg, HasSubstr("Supported TFLite builtin ops: "));
  for (const char* op :
       {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "UNIDIRECTIONAL_SEQUENCE_LSTM"}) {
    EXPECT_THAT(msg, HasSubstr(op));
  }
}

TEST(TfliteImporterTest, OutOfRangeAxisOnOneDimensionalBiasIsReadAsAxisZero) {
  auto info = DescribeModelFile(ModelPath("person_detect"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE(info->metadata.count("tflite.warnings"));
  const std::string& w = info->metadata.at("tflite.warnings");
  EXPECT_THAT(w, HasSubstr("tensor 'MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_bias' (1-D, 8 scales) "
                           "declares quantized_dimension 3"));
  EXPECT_THAT(w, HasSubstr("reading it as axis 0"));
}

// Anything else inconsistent stays a load error: a depthwise filter [1,3,3,C] whose C
// per-channel scales are declared on axis 2 (size 3) instead of 3.
TEST(TfliteImporterTest, ScaleCountMatchingNoAxisIsALoadError) {
  std::string bytes = ReadBytes(ModelPath("person_detect"));
  Flat f{bytes};
  const size_t sg = f.TableAt(f.Field(f.U32(0), kModelSubgraphs), 0);
  const size_t tensors = f.Field(sg, kSubgraphTensors);
  bool patched = false;
  for (uint32_t i = 0; i < f.Length(tensors) && !patched; ++i) {
    const size_t t = f.TableAt(tensors, i);
    const size_t q = f.Field(t, kTensorQuantization);
    const size_t shape = f.Field(t, kTensorShape);
    if (!q || !shape || f.Length(shape) != 4) continue;
    const size_t qt = f.Deref(q);
    const size_t dim = f.Field(qt, kQuantDimension);
    const size_t scales = f.Field(qt, kQuantScale);
    if (!dim || !scales || f.U32(dim) != 3 || f.Length(scales) <= 3) continue;
    const uint32_t two = 2;
    std::memcpy(&bytes[dim], &two, 4);
    patched = true;
  }
  ASSERT_TRUE(patched) << "no per-channel depthwise filter found to damage";
  TempModel damaged(bytes);
  auto model = LoadModel(damaged.path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("along quantized_dimension 2"));
  EXPECT_THAT(model.status().message(), HasSubstr("dims of size"));
}

// An unnamed graph input gets the stable name input_0, and the signature says so.
TEST(TfliteImporterTest, UnnamedInputGetsGeneratedNameInSignature) {
  std::string bytes = ReadBytes(ModelPath("hello_world_int8"));
  ASSERT_EQ(q8::testing::ClearTensorName(bytes, "serving_default_dense_input:0"), 1);
  TempModel renamed(bytes);
  auto model = LoadModel(renamed.path());
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  EXPECT_EQ(info.inputs[0].name, "input_0");
  EXPECT_TRUE(info.inputs[0].name_generated);
  EXPECT_FALSE(info.outputs[0].name_generated);
  EXPECT_THAT(info.metadata.at("q8serve.signatures"),
              HasSubstr("inputs { name: \"dense_input\" tensor: \"input_0\""));
  EXPECT_THAT(info.metadata.at("tflite.generated_names"), HasSubstr("input_0 = input 0"));
}

// An unnamed graph output likewise gets output_0: in the graph, the SignatureDef's binding
// (dense_2 → output_0) and the list of generated names; the model still runs under it.
TEST(TfliteImporterTest, UnnamedOutputGetsGeneratedNameInSignature) {
  std::string bytes = ReadBytes(ModelPath("hello_world_int8"));
  ASSERT_EQ(q8::testing::ClearTensorName(bytes, "StatefulPartitionedCall:0"), 1);
  TempModel renamed(bytes);
  auto model = LoadModel(renamed.path());
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  ASSERT_EQ(info.outputs.size(), 1u);
  EXPECT_EQ(info.outputs[0].name, "output_0");
  EXPECT_TRUE(info.outputs[0].name_generated);
  EXPECT_EQ(info.outputs[0].dtype, DType::kInt8);
  EXPECT_TRUE(info.outputs[0].quant.has_value()) << "the output keeps its quantization";
  EXPECT_EQ(info.inputs[0].name, "serving_default_dense_input:0");
  EXPECT_FALSE(info.inputs[0].name_generated);
  EXPECT_THAT(info.metadata.at("q8serve.signatures"),
              HasSubstr("outputs { name: \"dense_2\" tensor: \"output_0\""));
  EXPECT_THAT(info.metadata.at("tflite.generated_names"), HasSubstr("output_0 = output 0"));
  Tensor x(DType::kInt8, {1, 1});
  RunContext ctx;
  auto out = (*model)->Run(ctx, {TensorView{x.dtype(), x.shape(), x.data()}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1}));
}

std::string OpModelPath(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SourceDir() + "/tests/fixtures/tflite/ops/" + name +
                                  ".tflite");
}

int CountOps(const ModelInfo& info, const std::string& op_type) {
  int n = 0;
  for (const NodeInfo& node : info.nodes) n += node.op_type == op_type;
  return n;
}

// A PAD whose only reader is a convolution becomes that convolution's padding (TFLite pads
// with the zero point, real 0, which is what convolution padding adds): no Pad node is left,
// in arith_int8 (PAD → DEPTHWISE_CONV_2D, input zero point 3) nor in MobileNetV2 (17 PADs).
// tflite_reference_test checks the folded convolutions' outputs bit for bit.
TEST(TfliteImporterTest, PadBeforeAConvolutionIsFoldedIntoIt) {
  for (const std::string& path :
       {OpModelPath("arith_int8"), ModelPath("mobilenet_v2_quantized_1x3x224x224")}) {
    auto info = DescribeModelFile(path);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(CountOps(*info, "Pad"), 0) << path;
    EXPECT_GT(CountOps(*info, "Conv"), 0) << path;
  }
  // A PAD read by something else stays a q8.Pad (elementwise_int8: PAD → STRIDED_SLICE).
  auto info = DescribeModelFile(OpModelPath("elementwise_int8"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(CountOps(*info, "Pad"), 1);
}

// MEAN takes any axes of its input (ops/mean_int8 checks the arithmetic); an axis beyond the
// input's rank is a load error naming the operator and the axes.
TEST(TfliteImporterTest, MeanAxisOutOfRangeIsALoadError) {
  std::string bytes = ReadBytes(OpModelPath("elementwise_int8"));
  Flat f{bytes};
  constexpr int kModelBuffers = 4, kBufferData = 0, kTensorBuffer = 2, kTensorName = 3;
  const size_t sg = f.TableAt(f.Field(f.U32(0), kModelSubgraphs), 0);
  const size_t tensors = f.Field(sg, kSubgraphTensors);
  bool patched = false;
  for (uint32_t i = 0; i < f.Length(tensors) && !patched; ++i) {
    const size_t t = f.TableAt(tensors, i);
    const size_t name = f.Deref(f.Field(t, kTensorName));
    if (std::string(bytes.data() + name + 4, f.U32(name)) != "mean_axes") continue;
    const size_t buffer =
        f.TableAt(f.Field(f.U32(0), kModelBuffers), f.U32(f.Field(t, kTensorBuffer)));
    const size_t data = f.Deref(f.Field(buffer, kBufferData));
    ASSERT_EQ(f.U32(data), 8u);  // two int32 axes
    const int32_t axes[2] = {2, 5};
    std::memcpy(&bytes[data + 4], axes, 8);
    patched = true;
  }
  ASSERT_TRUE(patched) << "no mean_axes constant found";
  TempModel changed(bytes);
  auto model = LoadModel(changed.path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("operator #6 (MEAN)"));
  EXPECT_THAT(model.status().message(), HasSubstr("MEAN axis out of range: [2,5] of [1,4,4,9]"));
}

// Every truncation of a real file is rejected (the Verifier runs before any read).
TEST(TfliteImporterTest, TruncatedFilesAreLoadErrors) {
  const std::string bytes = ReadBytes(ModelPath("hello_world_int8"));
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t len = 0; len < bytes.size(); len += 37) {
    TempModel cut(bytes.substr(0, len));
    auto model = LoadModel(cut.path());
    ASSERT_FALSE(model.ok()) << "accepted the first " << len << " bytes";
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << model.status();
  }
}

// Seeded random corruption: each damaged copy either loads and runs or fails to load with
// a status; the test process surviving 300 of them is the assertion.
TEST(TfliteImporterTest, CorruptedFilesNeverCrash) {
  const std::string bytes = ReadBytes(ModelPath("hello_world_int8"));
  std::mt19937 rng(7);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = bytes;
    const int flips = 1 + trial % 4;
    for (int k = 0; k < flips; ++k) {
      damaged[rng() % damaged.size()] = static_cast<char>(rng() & 0xff);
    }
    TempModel file(damaged);
    auto model = LoadModel(file.path());
    if (!model.ok()) {
      ++rejected;
      continue;
    }
    ++loaded;
    const ModelInfo& info = (*model)->info();
    std::vector<Tensor> inputs;
    std::vector<TensorView> views;
    for (const TensorInfo& t : info.inputs) {
      Shape shape = t.shape;
      for (int64_t& d : shape) d = d < 0 ? 1 : d;
      if (NumElements(shape) > (1 << 20)) continue;
      inputs.emplace_back(t.dtype, shape);
    }
    if (inputs.size() != info.inputs.size()) continue;
    for (const Tensor& t : inputs) views.push_back(TensorView{t.dtype(), t.shape(), t.data()});
    RunContext ctx;
    (void)(*model)->Run(ctx, views);
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(loaded + rejected, 300);
}

// A shape claiming 2^62 elements is refused at import, before anything is allocated.
TEST(TfliteImporterTest, HugeShapeIsALoadError) {
  std::string bytes = ReadBytes(ModelPath("hello_world_int8"));
  Flat f{bytes};
  const size_t sg = f.TableAt(f.Field(f.U32(0), kModelSubgraphs), 0);
  const size_t shape = f.Field(f.TableAt(f.Field(sg, kSubgraphTensors), 0), kTensorShape);
  ASSERT_NE(shape, 0u);
  const size_t dims = f.Deref(shape);
  ASSERT_EQ(f.U32(dims), 2u);  // tensor 0: an activation of shape [1, N]
  const int32_t big = 0x7fffffff;
  std::memcpy(&bytes[dims + 4], &big, 4);
  std::memcpy(&bytes[dims + 8], &big, 4);
  TempModel damaged(bytes);
  auto model = LoadModel(damaged.path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("more than 2^31 elements"));
}

TEST(TfliteImporterTest, NotATfliteFile) {
  TempModel text("this is not a flatbuffer, but long enough to have an identifier");
  auto model = LoadModel(text.path());
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("TFL3"));
}

TEST(TfliteImporterTest, RepositoryProbesModelTflite) {
  const auto names = ModelFileNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "model.tflite"), names.end());
}

}  // namespace
}  // namespace q8::engine
