// Bad models: real models (the bench models and the default digits model) broken on
// purpose, one way per case, through onnx.pb.h — truncated files, byte corruption, unknown
// ops, missing initializers, quantization parameters of the wrong shape, dtype or value,
// int8 weights the graph declares as float, bad dims, zero points that disagree with their
// tensors, per-channel axes out of range. Each must fail to load with the status code and a
// message naming the file, the node or tensor at fault and the reason; none may crash. A
// mutated model that does load is run once, which must give a Status too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/common/test_env.h"

namespace q8::engine {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------
// Material

std::string BenchModel(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SharedDir() + "/bench/models/" + name);
}
std::string DigitsModel() {
  return q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/models/digits/1/model.onnx");
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The model in `path`; throws when it cannot be read (a case must not pass vacuously on
// an empty model).
onnx::ModelProto Parsed(const std::string& path) {
  onnx::ModelProto m;
  const std::string bytes = ReadBytes(path);
  if (bytes.empty() || !m.ParseFromString(bytes) || m.graph().input_size() == 0 ||
      m.graph().output_size() == 0 || m.graph().node_size() == 0) {
    throw std::runtime_error("cannot read model " + path);
  }
  return m;
}

std::string TempPath(const std::string& file_name) {
  auto dir = std::filesystem::temp_directory_path() / "q8serve-bad-models-test";
  std::filesystem::create_directories(dir);
  return (dir / file_name).string();
}

std::string WriteBytes(const std::string& bytes, const std::string& file_name) {
  const std::string path = TempPath(file_name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

// Loading without kernel tuning: the cases are about load errors, not speed.
LoadOptions FastLoad() {
  LoadOptions o;
  o.tune_kernels = false;
  o.threads = 1;
  return o;
}

// One run on zero-filled inputs of the declared shapes (run-time dims = 1): whatever the
// outcome, it must be a Status.
void RunOnce(const Model& model) {
  std::vector<Tensor> tensors;
  std::vector<TensorView> views;
  for (const TensorInfo& in : model.info().inputs) {
    Shape shape = in.shape;
    for (int64_t& d : shape) d = d < 0 ? 1 : d;
    if (NumElements(shape) > (int64_t{1} << 24)) return;  // a corrupted dim: not worth a run
    tensors.emplace_back(in.dtype == DType::kUnknown ? DType::kFloat32 : in.dtype, shape);
  }
  for (const Tensor& t : tensors) views.push_back(TensorView{t.dtype(), t.shape(), t.data()});
  RunContext ctx;
  auto out = model.Run(ctx, views);
  (void)out;  // any Status will do; reaching here is the point
}

// ---------------------------------------------------------------------------------------
// Mutation helpers. They throw std::logic_error when the model does not have what a case
// expects (the test then fails naming it), so a renamed model cannot make a case vacuous.

onnx::TensorProto& Init(onnx::ModelProto& m, const std::string& name) {
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.name() == name) return t;
  }
  throw std::logic_error("model has no initializer '" + name + "'");
}

onnx::NodeProto& Node(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.name() == name) return n;
  }
  throw std::logic_error("model has no node '" + name + "'");
}

void RemoveInit(onnx::ModelProto& m, const std::string& name) {
  auto* inits = m.mutable_graph()->mutable_initializer();
  for (int i = 0; i < inits->size(); ++i) {
    if (inits->Get(i).name() == name) {
      inits->DeleteSubrange(i, 1);
      return;
    }
  }
  throw std::logic_error("model has no initializer '" + name + "'");
}

template <typename T>
void SetData(onnx::TensorProto& t, int data_type, const std::vector<int64_t>& dims,
             const std::vector<T>& values) {
  t.set_data_type(data_type);
  t.clear_dims();
  for (int64_t d : dims) t.add_dims(d);
  t.clear_float_data();
  t.clear_int32_data();
  t.clear_int64_data();
  t.set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

std::vector<float> Floats(const onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::FLOAT || !t.has_raw_data()) {
    throw std::logic_error("initializer '" + t.name() + "' is not raw float data");
  }
  std::vector<float> v(t.raw_data().size() / sizeof(float));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  return v;
}

// Sets element `i` of a raw float initializer.
void SetFloatAt(onnx::ModelProto& m, const std::string& name, size_t i, float value) {
  onnx::TensorProto& t = Init(m, name);
  std::vector<float> v = Floats(t);
  if (i >= v.size()) throw std::logic_error("initializer '" + name + "' is too small");
  v[i] = value;
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  SetData(t, onnx::TensorProto::FLOAT, dims, v);
}

// Keeps the first `count` elements of a 1-D initializer (any element type).
void ShrinkTo(onnx::ModelProto& m, const std::string& name, int64_t count) {
  onnx::TensorProto& t = Init(m, name);
  if (t.dims_size() != 1 || !t.has_raw_data()) throw std::logic_error(name + " is not raw 1-D");
  const size_t elem = t.raw_data().size() / static_cast<size_t>(t.dims(0));
  t.set_dims(0, count);
  t.set_raw_data(t.raw_data().substr(0, static_cast<size_t>(count) * elem));
}

// A new scalar initializer.
template <typename T>
void AddScalarInit(onnx::ModelProto& m, const std::string& name, int data_type, T value) {
  onnx::TensorProto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  SetData<T>(*t, data_type, {}, {value});
}

void SetAttrInt(onnx::NodeProto& n, const std::string& name, int64_t value) {
  for (auto& a : *n.mutable_attribute()) {
    if (a.name() == name) {
      a.clear_f();
      a.set_type(onnx::AttributeProto::INT);
      a.set_i(value);
      return;
    }
  }
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void SetAttrFloatKind(onnx::NodeProto& n, const std::string& name, float value) {
  for (auto& a : *n.mutable_attribute()) {
    if (a.name() == name) {
      a.clear_i();
      a.set_type(onnx::AttributeProto::FLOAT);
      a.set_f(value);
      return;
    }
  }
  throw std::logic_error("node '" + n.name() + "' has no attribute '" + name + "'");
}

// A declaration of `name` (graph input or value_info) with element type `elem_type`.
void Declare(onnx::ValueInfoProto* vi, const std::string& name, int elem_type,
             const std::vector<int64_t>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

// ---------------------------------------------------------------------------------------
// The table

struct BadModelCase {
  std::string name;                               // gtest parameter name
  std::function<std::string()> model;             // base model file
  std::function<void(onnx::ModelProto&)> mutate;  // the one thing broken
  absl::StatusCode code;
  std::vector<std::string> mentions;  // besides the file: node/tensor, reason
};

void PrintTo(const BadModelCase& c, std::ostream* os) { *os << c.name; }

using onnx::TensorProto;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kUnimplemented = absl::StatusCode::kUnimplemented;

std::string Mlp() { return BenchModel("mlp_qdq.onnx"); }
std::string Cnn() { return BenchModel("cnn_qdq.onnx"); }
std::string ResnetQop() { return BenchModel("resnet_block_qop.onnx"); }
std::string MlpQop() { return BenchModel("mlp_qop.onnx"); }
std::string MlpDynamic() { return BenchModel("mlp_dynamic.onnx"); }
std::string Digits() { return DigitsModel(); }

const std::vector<BadModelCase>& Cases() {
  static const auto* cases = new std::vector<BadModelCase>{
      // --- unknown op ---------------------------------------------------------------
      {"UnknownOp", Digits,
       [](onnx::ModelProto& m) { Node(m, "/fc1/Relu").set_op_type("FancyRelu"); },
       kUnimplemented, {"'/fc1/Relu'", "FancyRelu", "not supported", "Supported ops"}},
      {"UnknownDomain", Cnn,
       [](onnx::ModelProto& m) { Node(m, "/features/4/MaxPool").set_domain("com.example"); },
       kUnimplemented, {"'/features/4/MaxPool'", "com.example.MaxPool", "Supported ops"}},

      // --- missing initializer ------------------------------------------------------
      {"MissingWeightScale", Digits,
       [](onnx::ModelProto& m) { RemoveInit(m, "fc1.weight_scale"); },
       kInvalid, {"'fc1.weight_DequantizeLinear'", "'fc1.weight_scale'", "not produced"}},
      {"MissingQuantizeScale", Mlp,
       [](onnx::ModelProto& m) { RemoveInit(m, "/fc2/Relu_output_0_scale"); },
       kInvalid, {"'/fc2/Relu_output_0_QuantizeLinear'", "'/fc2/Relu_output_0_scale'", "not produced"}},
      {"MissingWeight", Cnn,
       [](onnx::ModelProto& m) { RemoveInit(m, "features.5.weight_quantized"); },
       kInvalid, {"'features.5.weight_DequantizeLinear'", "'features.5.weight_quantized'", "not produced"}},
      {"MissingQLinearConvWeightScale", ResnetQop,
       [](onnx::ModelProto& m) { RemoveInit(m, "layer1.0.conv2.weight_scale"); },
       kInvalid, {"'/layer1/0/conv2/Conv_quant'", "'layer1.0.conv2.weight_scale'", "not produced"}},
      {"MissingMatMulIntegerWeight", MlpDynamic,
       [](onnx::ModelProto& m) { RemoveInit(m, "ffn.1.weight_quantized"); },
       kInvalid, {"'/ffn/1/MatMul_quant'", "'ffn.1.weight_quantized'", "not produced"}},

      // --- scale of the wrong shape -------------------------------------------------
      {"PerChannelScaleCountDiffersFromChannels", Digits,
       [](onnx::ModelProto& m) {
         ShrinkTo(m, "fc2.weight_scale", 31);
         ShrinkTo(m, "fc2.weight_zero_point", 31);
       },
       kInvalid, {"'fc2.weight_DequantizeLinear'", "'fc2.weight_scale'", "31", "32", "axis 0"}},
      {"PerChannelConvScaleCountDiffersFromChannels", Cnn,
       [](onnx::ModelProto& m) {
         ShrinkTo(m, "features.2.weight_scale", 16);
         ShrinkTo(m, "features.2.weight_zero_point", 16);
       },
       kInvalid, {"'features.2.weight_DequantizeLinear'", "'features.2.weight_scale'", "16", "32"}},
      {"ZeroPointCountDiffersFromScale", Digits,
       [](onnx::ModelProto& m) { ShrinkTo(m, "fc1.weight_zero_point", 1); },
       kInvalid, {"'fc1.weight_DequantizeLinear'", "'fc1.weight_zero_point'", "'fc1.weight_scale'", "shape"}},
      {"TwoDimensionalScale", Digits,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "fc1.weight_scale");
         SetData(t, TensorProto::FLOAT, {8, 8}, Floats(t));
       },
       kInvalid, {"'fc1.weight_DequantizeLinear'", "'fc1.weight_scale'", "[8,8]", "scalar or 1-D"}},
      {"TwoDimensionalConvScale", Cnn,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "features.0.weight_scale");
         SetData(t, TensorProto::FLOAT, {32, 1}, Floats(t));
       },
       kInvalid, {"'features.0.weight_DequantizeLinear'", "'features.0.weight_scale'", "[32,1]", "scalar or 1-D"}},
      {"PerChannelActivationScaleOfQLinearConv", ResnetQop,
       [](onnx::ModelProto& m) {
         // x_scale of QLinearConv must be a scalar; this one has a value per channel.
         onnx::TensorProto& t = Init(m, "/layer1/0/conv1/Conv_output_0_scale");
         std::vector<float> v(64, Floats(t)[0]);
         SetData(t, TensorProto::FLOAT, {64}, v);
       },
       kInvalid, {"'/layer1/0/conv1/Conv_quant'", "'/layer1/0/conv1/Conv_output_0_scale'", "scalar"}},
      {"QLinearConvWeightScaleCountDiffersFromChannels", ResnetQop,
       [](onnx::ModelProto& m) { ShrinkTo(m, "layer1.1.conv1.weight_scale", 63); },
       kInvalid, {"'/layer1/1/conv1/Conv_quant'", "'layer1.1.conv1.weight_scale'", "63", "64"}},
      {"QLinearMatMulWeightScaleCountDiffersFromColumns", MlpQop,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "fc2.weight_scale");
         std::vector<float> v(7, 0.01f);
         SetData(t, TensorProto::FLOAT, {7}, v);
       },
       kInvalid, {"'/fc2/MatMul_quant'", "'fc2.weight_scale'", "7"}},

      // --- scale / zero point of the wrong dtype ------------------------------------
      {"IntegerScale", Digits,
       [](onnx::ModelProto& m) {
         SetData<int32_t>(Init(m, "images_scale"), TensorProto::INT32, {}, {1});
       },
       kInvalid, {"'images_QuantizeLinear'", "'images_scale'", "int32", "float32"}},
      {"Int8WeightScale", Cnn,
       [](onnx::ModelProto& m) {
         SetData<int8_t>(Init(m, "features.7.weight_scale"), TensorProto::INT8, {64},
                         std::vector<int8_t>(64, 1));
       },
       kInvalid, {"'features.7.weight_DequantizeLinear'", "'features.7.weight_scale'", "int8", "float32"}},
      {"FloatZeroPoint", Digits,
       [](onnx::ModelProto& m) {
         SetData<float>(Init(m, "/fc1/Relu_output_0_zero_point"), TensorProto::FLOAT, {}, {0.f});
       },
       kInvalid, {"'/fc1/Relu_output_0_QuantizeLinear'", "'/fc1/Relu_output_0_zero_point'", "float32", "uint8"}},
      {"ZeroPointDtypeDiffersFromWeights", Digits,
       [](onnx::ModelProto& m) {
         // int8 weights, uint8 zero points (same bytes: all zero).
         onnx::TensorProto& t = Init(m, "fc3.weight_zero_point");
         t.set_data_type(TensorProto::UINT8);
       },
       kInvalid, {"'fc3.weight_DequantizeLinear'", "'fc3.weight_zero_point'", "'fc3.weight_quantized'", "uint8", "int8"}},
      {"Int32ZeroPointOnQuantizeLinear", Mlp,
       [](onnx::ModelProto& m) {
         SetData<int32_t>(Init(m, "input_zero_point"), TensorProto::INT32, {}, {0});
       },
       kInvalid, {"'input_QuantizeLinear'", "'input_zero_point'", "int32", "uint8 or int8"}},

      // --- zero / negative / NaN / Inf scale ----------------------------------------
      {"ZeroActivationScale", Digits,
       [](onnx::ModelProto& m) { SetFloatAt(m, "images_scale", 0, 0.f); },
       kInvalid, {"'images_QuantizeLinear'", "'images_scale'", "0", "finite and positive"}},
      {"NegativeActivationScale", Mlp,
       [](onnx::ModelProto& m) { SetFloatAt(m, "/fc1/Relu_output_0_scale", 0, -0.05f); },
       kInvalid, {"'/fc1/Relu_output_0_QuantizeLinear'", "'/fc1/Relu_output_0_scale'", "-0.05", "finite and positive"}},
      {"NaNWeightScale", Digits,
       [](onnx::ModelProto& m) { SetFloatAt(m, "fc2.weight_scale", 5, kNaN); },
       kInvalid, {"'fc2.weight_DequantizeLinear'", "'fc2.weight_scale'", "nan", "element 5"}},
      {"InfWeightScale", Cnn,
       [](onnx::ModelProto& m) { SetFloatAt(m, "features.10.weight_scale", 127, kInf); },
       kInvalid, {"'features.10.weight_DequantizeLinear'", "'features.10.weight_scale'", "inf", "element 127"}},
      {"ZeroPerChannelConvScale", Cnn,
       [](onnx::ModelProto& m) { SetFloatAt(m, "features.0.weight_scale", 3, 0.f); },
       kInvalid, {"'features.0.weight_DequantizeLinear'", "'features.0.weight_scale'", "element 3"}},
      {"ZeroQLinearConvOutputScale", ResnetQop,
       [](onnx::ModelProto& m) { SetFloatAt(m, "/layer1/1/conv2/Conv_output_0_scale", 0, 0.f); },
       kInvalid, {"'/layer1/1/conv2/Conv_quant'", "'/layer1/1/conv2/Conv_output_0_scale'", "finite and positive"}},
      {"InfQLinearMatMulScale", MlpQop,
       [](onnx::ModelProto& m) { SetFloatAt(m, "/fc1/MatMul_output_0_scale", 0, kInf); },
       kInvalid, {"'/fc1/MatMul_quant'", "'/fc1/MatMul_output_0_scale'", "inf"}},
      {"NegativeBiasScale", Digits,
       [](onnx::ModelProto& m) { SetFloatAt(m, "fc1.bias_quantized_scale", 0, -1.f); },
       kInvalid, {"'fc1.bias_quantized_DequantizeLinear'", "'fc1.bias_quantized_scale'", "finite and positive"}},

      // --- int8 weights the graph declares as float ---------------------------------
      {"Int8WeightDeclaredFloatGraphInput", Digits,
       [](onnx::ModelProto& m) {
         // IR < 4 style: the initializer also listed as a graph input, declared float.
         Declare(m.mutable_graph()->add_input(), "fc1.weight_quantized", TensorProto::FLOAT, {64, 64});
       },
       kInvalid, {"'fc1.weight_quantized'", "int8", "float32", "graph input"}},
      {"Int8WeightDeclaredFloatValueInfo", Cnn,
       [](onnx::ModelProto& m) {
         Declare(m.mutable_graph()->add_value_info(), "features.2.weight_quantized",
                 TensorProto::FLOAT, {32, 32, 3, 3});
       },
       kInvalid, {"'features.2.weight_quantized'", "int8", "float32", "value_info"}},
      {"DequantizeOutputDeclaredInt8", Digits,
       [](onnx::ModelProto& m) {
         Declare(m.mutable_graph()->add_value_info(), "fc2.weight_DequantizeLinear_Output",
                 TensorProto::INT8, {32, 64});
       },
       kInvalid, {"'fc2.weight_DequantizeLinear_Output'", "int8", "float32", "value_info"}},
      {"QuantizedOutputDeclaredFloat", ResnetQop,
       [](onnx::ModelProto& m) {
         Declare(m.mutable_graph()->add_value_info(), "/layer1/0/conv1/Conv_output_0_quantized",
                 TensorProto::FLOAT, {});
       },
       kInvalid, {"'/layer1/0/conv1/Conv_output_0_quantized'", "uint8", "float32", "value_info"}},
      {"Int8WeightFedToFloatGemm", Digits,
       [](onnx::ModelProto& m) {
         // The Gemm reads the int8 initializer as if it were the float weight.
         onnx::NodeProto& gemm = Node(m, "/fc2/Gemm");
         gemm.set_input(1, "fc2.weight_quantized");
       },
       kInvalid, {"'/fc2/Gemm'", "'fc2.weight_quantized'", "int8", "float32", "DequantizeLinear"}},
      {"Int8WeightFedToFloatConv", Cnn,
       [](onnx::ModelProto& m) {
         Node(m, "/features/5/Conv").set_input(1, "features.5.weight_quantized");
       },
       kInvalid, {"'/features/5/Conv'", "'features.5.weight_quantized'", "int8", "float32"}},
      {"GraphInputDeclaredInt8ButQuantized", Digits,
       [](onnx::ModelProto& m) {
         // The graph says its input is int8, but its first op quantizes it (float → uint8).
         m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
             TensorProto::INT8);
       },
       kInvalid, {"'images_QuantizeLinear'", "'images'", "int8", "float32"}},
      {"RawDataShorterThanDims", Digits,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "fc1.weight_quantized");
         t.set_raw_data(t.raw_data().substr(0, t.raw_data().size() - 1));
       },
       kInvalid, {"'fc1.weight_quantized'", "raw_data", "4096", "4095"}},
      {"Int8WeightWithFloatRawData", Digits,
       [](onnx::ModelProto& m) {
         // Declared float with int8 bytes: the byte count gives it away.
         Init(m, "fc2.weight_quantized").set_data_type(TensorProto::FLOAT);
       },
       kInvalid, {"'fc2.weight_quantized'", "float32", "8192", "2048"}},
      {"TypedDataCountDiffersFromDims", Digits,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "images_scale");
         t.clear_raw_data();
         t.add_float_data(0.1f);
         t.add_float_data(0.2f);
       },
       kInvalid, {"'images_scale'", "needs 1 values, has 2"}},

      // --- dims negative or huge ----------------------------------------------------
      {"NegativeDim", Digits,
       [](onnx::ModelProto& m) { Init(m, "fc1.weight_quantized").set_dims(0, -64); },
       kInvalid, {"'fc1.weight_quantized'", "negative dim -64"}},
      {"HugeDims", Digits,
       [](onnx::ModelProto& m) { Init(m, "fc2.weight_quantized").set_dims(0, int64_t{1} << 40); },
       kInvalid, {"'fc2.weight_quantized'", "1099511627776", "raw_data"}},
      {"DimsOverflow", Cnn,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "features.0.weight_quantized");
         t.set_dims(0, int64_t{1} << 62);
         t.set_dims(1, int64_t{1} << 62);
       },
       kInvalid, {"'features.0.weight_quantized'", "overflow"}},
      {"HugeDimsWithoutData", Digits,
       [](onnx::ModelProto& m) {
         onnx::TensorProto& t = Init(m, "fc3.bias_quantized");
         t.clear_raw_data();
         t.set_dims(0, int64_t{1} << 45);
       },
       kInvalid, {"'fc3.bias_quantized'", "35184372088832", "has 0"}},
      {"NegativeGraphInputDim", Digits,
       [](onnx::ModelProto& m) {
         auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
                           ->mutable_shape();
         if (shape->dim_size() != 2) throw std::logic_error("images is not 2-D");
         shape->mutable_dim(1)->set_dim_value(-64);
       },
       kInvalid, {"graph input 'images'", "-64"}},

      // --- QLinearConv / QLinearMatMul zero points that disagree with their tensors --
      {"QLinearConvWeightZeroPointUint8", ResnetQop,
       [](onnx::ModelProto& m) { Init(m, "layer1.0.conv1.weight_zero_point").set_data_type(TensorProto::UINT8); },
       kInvalid, {"'/layer1/0/conv1/Conv_quant'", "'layer1.0.conv1.weight_zero_point'", "uint8", "int8"}},
      {"QLinearConvActivationZeroPointInt8", ResnetQop,
       [](onnx::ModelProto& m) {
         // x is uint8 (the QuantizeLinear before says so); this x_zero_point is int8.
         AddScalarInit<int8_t>(m, "x_zp_int8", TensorProto::INT8, 0);
         Node(m, "/layer1/0/conv1/Conv_quant").set_input(2, "x_zp_int8");
       },
       kInvalid, {"'/layer1/0/conv1/Conv_quant'", "'x_zp_int8'", "'input_quantized'", "int8", "uint8"}},
      {"QLinearConvOutputZeroPointFloat", ResnetQop,
       [](onnx::ModelProto& m) {
         SetData<float>(Init(m, "/layer1/1/conv1/Conv_output_0_zero_point"), TensorProto::FLOAT, {}, {0.f});
       },
       kInvalid, {"'/layer1/1/conv1/Conv_quant'", "'/layer1/1/conv1/Conv_output_0_zero_point'", "float32"}},
      {"QLinearConvInt8BiasNotInt32", ResnetQop,
       [](onnx::ModelProto& m) {
         SetData<int8_t>(Init(m, "layer1.0.conv2.bias_quantized"), TensorProto::INT8, {64},
                         std::vector<int8_t>(64, 0));
       },
       kInvalid, {"'/layer1/0/conv2/Conv_quant'", "'layer1.0.conv2.bias_quantized'", "int32"}},
      {"QLinearMatMulWeightZeroPointUint8", MlpQop,
       [](onnx::ModelProto& m) { Init(m, "fc1.weight_zero_point").set_data_type(TensorProto::UINT8); },
       kInvalid, {"'/fc1/MatMul_quant'", "'fc1.weight_zero_point'", "uint8", "int8"}},
      {"QLinearMatMulActivationZeroPointInt8", MlpQop,
       [](onnx::ModelProto& m) {
         AddScalarInit<int8_t>(m, "a_zp_int8", TensorProto::INT8, 0);
         Node(m, "/fc2/MatMul_quant").set_input(2, "a_zp_int8");
       },
       kInvalid, {"'/fc2/MatMul_quant'", "'a_zp_int8'", "uint8"}},

      // --- per-channel axis out of range ---------------------------------------------
      {"PerChannelAxisOutOfRange", Digits,
       [](onnx::ModelProto& m) { SetAttrInt(Node(m, "fc1.weight_DequantizeLinear"), "axis", 2); },
       kInvalid, {"'fc1.weight_DequantizeLinear'", "axis 2", "rank 2"}},
      {"PerChannelNegativeAxisOutOfRange", Cnn,
       [](onnx::ModelProto& m) { SetAttrInt(Node(m, "features.5.weight_DequantizeLinear"), "axis", -5); },
       kInvalid, {"'features.5.weight_DequantizeLinear'", "axis -5", "rank 4"}},
      {"PerChannelAxisOnTheWrongDim", Digits,
       [](onnx::ModelProto& m) {
         // fc2 weights are [32, 64] with 32 scales: along axis 1 they do not fit.
         SetAttrInt(Node(m, "fc2.weight_DequantizeLinear"), "axis", 1);
       },
       kInvalid, {"'fc2.weight_DequantizeLinear'", "32", "axis 1", "64"}},
      {"PerChannelAxisOfFloatKind", Digits,
       [](onnx::ModelProto& m) { SetAttrFloatKind(Node(m, "fc1.weight_DequantizeLinear"), "axis", 0.f); },
       kInvalid, {"'fc1.weight_DequantizeLinear'", "axis", "FLOAT", "INT"}},
  };
  return *cases;
}

class BadModelTest : public ::testing::TestWithParam<BadModelCase> {};

TEST_P(BadModelTest, FailsToLoadNamingFileNodeAndReason) {
  const BadModelCase& c = GetParam();
  onnx::ModelProto m;
  try {
    m = Parsed(c.model());
    c.mutate(m);
  } catch (const std::exception& e) {
    FAIL() << "case set-up: " << e.what();
  }
  const std::string path = WriteBytes(m.SerializeAsString(), c.name + ".onnx");
  auto model = LoadModel(path, FastLoad());
  if (model.ok()) {
    RunOnce(**model);
    FAIL() << "loaded; expected " << absl::StatusCodeToString(c.code);
  }
  const std::string message(model.status().message());
  RecordProperty("message", message);  // in --gtest_output=xml, to read the messages whole
  EXPECT_EQ(model.status().code(), c.code) << message;
  EXPECT_THAT(message, HasSubstr(path));
  for (const std::string& s : c.mentions) EXPECT_THAT(message, HasSubstr(s));
}

INSTANTIATE_TEST_SUITE_P(Cases, BadModelTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// The untouched models load (so every case above fails because of its one mutation).
TEST(BadModelBaselineTest, UnmutatedModelsLoadAndRun) {
  for (const std::string& path : {Mlp(), Cnn(), ResnetQop(), MlpQop(), MlpDynamic(), Digits()}) {
    const std::string copy =
        WriteBytes(Parsed(path).SerializeAsString(),
                   "baseline_" + std::filesystem::path(path).filename().string());
    auto model = LoadModel(copy, FastLoad());
    ASSERT_TRUE(model.ok()) << model.status();
    std::vector<Tensor> tensors;
    std::vector<TensorView> views;
    for (const TensorInfo& in : (*model)->info().inputs) {
      Shape shape = in.shape;
      for (int64_t& d : shape) d = d < 0 ? 1 : d;
      tensors.emplace_back(in.dtype, shape);
      views.push_back(TensorView{in.dtype, shape, tensors.back().data()});
    }
    RunContext ctx;
    auto out = (*model)->Run(ctx, views);
    EXPECT_TRUE(out.ok()) << path << ": " << out.status();
  }
}

// ---------------------------------------------------------------------------------------
// Quantization parameters given at run time (ONNX's conformance models take them as graph
// inputs): declared with run-time dims, they reach the reference kernels unchecked by the
// import, so the kernels check them when they plan.

std::string NodeCase(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SharedDir() + "/testdata/onnx-node/" + name +
                                  "/model.onnx");
}

// Declares every dim of graph input `name` as run-time.
void MakeDimsRunTime(onnx::ModelProto& m, const std::string& name) {
  for (auto& in : *m.mutable_graph()->mutable_input()) {
    if (in.name() != name) continue;
    for (auto& dim : *in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
      dim.set_dim_param("n");
    }
    return;
  }
  throw std::logic_error("model has no graph input '" + name + "'");
}

struct Feed {
  Feed(DType t, Shape s, std::vector<uint8_t> b = {})
      : dtype(t), shape(std::move(s)), bytes(std::move(b)) {}
  DType dtype;
  Shape shape;
  std::vector<uint8_t> bytes;  // all ones when empty
};

absl::StatusOr<std::vector<Tensor>> RunWith(const onnx::ModelProto& m, const std::string& file,
                                            std::vector<Feed> feeds) {
  auto model = LoadModel(WriteBytes(m.SerializeAsString(), file), FastLoad());
  if (!model.ok()) return model.status();
  std::vector<Tensor> tensors;
  std::vector<TensorView> views;
  for (Feed& f : feeds) {
    tensors.emplace_back(f.dtype, f.shape);
    Tensor& t = tensors.back();
    if (f.bytes.empty()) f.bytes.assign(t.byte_size(), 1);
    if (f.bytes.size() != t.byte_size()) return absl::InternalError("test feed of the wrong size");
    std::memcpy(t.data(), f.bytes.data(), t.byte_size());
  }
  for (const Tensor& t : tensors) views.push_back(TensorView{t.dtype(), t.shape(), t.data()});
  RunContext ctx;
  return (*model)->Run(ctx, views);
}

std::vector<uint8_t> FloatBytes(std::vector<float> v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(RunTimeQuantParamsTest, QLinearConvWithTooFewWeightScalesIsInvalidArgument) {
  onnx::ModelProto m = Parsed(NodeCase("test_qlinearconv"));
  for (const char* in : {"w", "w_scale", "w_zero_point"}) MakeDimsRunTime(m, in);
  // Four output channels, two weight scales: the kernel would read scales 2 and 3 past the
  // end of the buffer.
  auto out = RunWith(m, "qlinearconv_runtime.onnx",
                     {{DType::kUint8, {1, 1, 7, 7}},
                      {DType::kFloat32, {}, FloatBytes({0.1f})},
                      {DType::kUint8, {}},
                      {DType::kUint8, {4, 1, 1, 1}},
                      {DType::kFloat32, {2}, FloatBytes({0.1f, 0.2f})},
                      {DType::kUint8, {4}},
                      {DType::kFloat32, {}, FloatBytes({0.5f})},
                      {DType::kUint8, {}}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              ::testing::AllOf(HasSubstr("(QLinearConv)"), HasSubstr("w_scale has shape [2]"),
                               HasSubstr("1 or 4 values")));
}

TEST(RunTimeQuantParamsTest, QLinearConvWithAFloatZeroPointIsInvalidArgument) {
  onnx::ModelProto m = Parsed(NodeCase("test_qlinearconv"));
  m.mutable_graph()->mutable_input(2)->mutable_type()->mutable_tensor_type()->set_elem_type(
      TensorProto::FLOAT);  // x_zero_point
  auto out = RunWith(m, "qlinearconv_float_zp.onnx",
                     {{DType::kUint8, {1, 1, 7, 7}},
                      {DType::kFloat32, {}, FloatBytes({0.1f})},
                      {DType::kFloat32, {}, FloatBytes({0.f})},
                      {DType::kUint8, {1, 1, 1, 1}},
                      {DType::kFloat32, {1}, FloatBytes({0.1f})},
                      {DType::kUint8, {1}},
                      {DType::kFloat32, {}, FloatBytes({0.5f})},
                      {DType::kUint8, {}}});
  // The graph declares it float32: the import's checks see that already.
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              ::testing::AllOf(HasSubstr("x_zero_point 'x_zero_point' is float32"),
                               HasSubstr("uint8 or int8")));
}

TEST(RunTimeQuantParamsTest, PerChannelQuantizeWithOneZeroPointIsInvalidArgument) {
  onnx::ModelProto m = Parsed(NodeCase("test_quantizelinear_axis"));
  MakeDimsRunTime(m, "y_zero_point");
  // Three scales along axis 1, one zero point: the loop would read zero points 1 and 2 past
  // its end.
  auto out = RunWith(m, "quantize_axis_runtime.onnx",
                     {{DType::kFloat32, {1, 3, 3, 2}, FloatBytes(std::vector<float>(18, 1.f))},
                      {DType::kFloat32, {3}, FloatBytes({1.f, 2.f, 4.f})},
                      {DType::kUint8, {1}}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("y_zero_point has shape [1] but y_scale has shape [3]"));
}

TEST(RunTimeQuantParamsTest, PerChannelDequantizeWithOneZeroPointIsInvalidArgument) {
  onnx::ModelProto m = Parsed(NodeCase("test_dequantizelinear_axis"));
  MakeDimsRunTime(m, "x_zero_point");
  auto out = RunWith(m, "dequantize_axis_runtime.onnx",
                     {{DType::kUint8, {1, 3, 3, 2}},
                      {DType::kFloat32, {3}, FloatBytes({1.f, 2.f, 4.f})},
                      {DType::kUint8, {1}}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("x_zero_point has shape [1] but x_scale has shape [3]"));
}

// Regression: with a_zero_point omitted and b_zero_point given, b's zero point was dropped
// (the kernel took the inputs up to the first omitted one).
TEST(RunTimeQuantParamsTest, MatMulIntegerWithOnlyBZeroPointSubtractsIt) {
  onnx::ModelProto m = Parsed(NodeCase("test_matmulinteger"));
  onnx::GraphProto* g = m.mutable_graph();
  ASSERT_EQ(g->node_size(), 1);
  g->mutable_node(0)->set_input(2, "");
  g->mutable_input()->DeleteSubrange(2, 1);                               // a_zero_point
  const std::vector<uint8_t> a = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0};  // [4,3]
  const std::vector<uint8_t> b = {1, 4, 2, 5, 3, 6};                      // [3,2]
  const uint8_t zb = 2;
  auto out =
      RunWith(m, "matmulinteger_b_zp.onnx",
              {{DType::kUint8, {4, 3}, a}, {DType::kUint8, {3, 2}, b}, {DType::kUint8, {1}, {zb}}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].shape(), (Shape{4, 2}));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 2; ++j) {
      int32_t want = 0;  // ONNX MatMulInteger: Σ_k (A[i][k] - 0) · (B[k][j] - b_zero_point)
      for (int k = 0; k < 3; ++k) want += a[i * 3 + k] * (b[k * 2 + j] - zb);
      EXPECT_EQ((*out)[0].data_as<int32_t>()[i * 2 + j], want) << i << "," << j;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Truncation and corruption

// Every 1/16 of each file: a protobuf cut short cannot parse; the message says so.
TEST(BadModelTruncationTest, TruncatedFilesAreInvalidArgumentNamingTheFile) {
  for (const std::string& path : {Digits(), Cnn(), ResnetQop(), MlpDynamic()}) {
    const std::string bytes = ReadBytes(path);
    ASSERT_GT(bytes.size(), 1000u) << path;
    for (int k = 0; k < 16; ++k) {
      const size_t length = bytes.size() * k / 16;
      const std::string cut = WriteBytes(bytes.substr(0, length), "truncated.onnx");
      auto model = LoadModel(cut, FastLoad());
      ASSERT_FALSE(model.ok()) << path << " cut at " << length << " bytes loaded";
      EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
          << path << " cut at " << length << ": " << model.status();
      EXPECT_THAT(model.status().message(), HasSubstr(cut));
      EXPECT_THAT(model.status().message(), HasSubstr(length == 0 ? "empty" : "truncated"));
    }
  }
}

// Q8_BAD_MODELS_SCALE=k runs k times the iterations (a local soak run); default 1.
int Scaled(int iterations) {
  const int scale = std::atoi(q8::testing::EnvOr("Q8_BAD_MODELS_SCALE", "1").c_str());
  return iterations * std::max(scale, 1);
}

// Random bytes overwritten, seeded: whatever the engine makes of each file — a load
// error, or a model that loads and then runs or fails — it answers with a Status.
void CorruptAndLoad(const std::string& path, uint32_t seed, int iterations) {
  iterations = Scaled(iterations);
  const std::string bytes = ReadBytes(path);
  std::mt19937 rng(seed);
  int loaded = 0;
  for (int i = 0; i < iterations; ++i) {
    std::string bad = bytes;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    }
    const std::string file = WriteBytes(bad, "corrupt.onnx");
    SCOPED_TRACE(::testing::Message() << path << " seed " << seed << " iteration " << i);
    auto model = LoadModel(file, FastLoad());
    if (model.ok()) {
      ++loaded;
      RunOnce(**model);
    } else {
      EXPECT_THAT(model.status().message(), HasSubstr(file));
    }
  }
  // Most single-byte damage lands in weight bytes, which still load: the runs above were
  // exercised, not skipped.
  EXPECT_GT(loaded, 0) << path;
}

TEST(BadModelCorruptionTest, CorruptedDigitsModelNeverCrashes) {
  CorruptAndLoad(Digits(), 1234, 150);
}

TEST(BadModelCorruptionTest, CorruptedQOperatorModelNeverCrashes) {
  CorruptAndLoad(ResnetQop(), 99, 50);
}

// Random bytes mostly land in weights. These edits land in the structure instead, the way
// a buggy exporter or a hand edit breaks a model: one random edit of an initializer's
// type, dims or values, a node's inputs, attributes or op, or a declaration. Seeded and
// bounded; every outcome must be a Status, at load or at the one run.
class StructureMutator {
 public:
  explicit StructureMutator(uint32_t seed) : rng_(seed) {}

  void Mutate(onnx::ModelProto& m) {
    onnx::GraphProto* g = m.mutable_graph();
    switch (Pick(9)) {
      case 0: {  // an initializer's element type
        static constexpr int kTypes[] = {
            TensorProto::FLOAT,   TensorProto::UINT8,  TensorProto::INT8,
            TensorProto::INT32,   TensorProto::INT64,  TensorProto::BOOL,
            TensorProto::FLOAT16, TensorProto::DOUBLE, 0};
        RandomInit(g).set_data_type(kTypes[Pick(9)]);
        break;
      }
      case 1: {  // an initializer's dims: changed, added or dropped
        static constexpr int64_t kDims[] = {0, 1, 2, 3, -1, 7, 64, 1 << 20, int64_t{1} << 40};
        onnx::TensorProto& t = RandomInit(g);
        const int64_t d = kDims[Pick(9)];
        if (t.dims_size() == 0 || Pick(4) == 0) {
          t.add_dims(d);
        } else if (Pick(4) == 0) {
          t.mutable_dims()->RemoveLast();
        } else {
          t.set_dims(Pick(t.dims_size()), d);
        }
        break;
      }
      case 2: {  // one value of an initializer: special floats, random bytes
        onnx::TensorProto& t = RandomInit(g);
        std::string* raw = t.mutable_raw_data();
        if (raw->empty()) break;
        if (t.data_type() == TensorProto::FLOAT && raw->size() >= 4) {
          static constexpr float kValues[] = {0.f, -1.f, kNaN, kInf, -kInf, 1e-45f, 1e38f, 1.f};
          const float v = kValues[Pick(8)];
          std::memcpy(raw->data() + 4 * Pick(static_cast<int>(raw->size() / 4)), &v, 4);
        } else {
          (*raw)[Pick(static_cast<int>(raw->size()))] = static_cast<char>(rng_() & 0xff);
        }
        break;
      }
      case 3: {  // a node input rewired to another value defined before the node
        const int n = Pick(g->node_size());
        onnx::NodeProto* node = g->mutable_node(n);
        if (node->input_size() == 0) break;
        std::vector<std::string> earlier;
        for (const auto& t : g->initializer()) earlier.push_back(t.name());
        for (const auto& in : g->input()) earlier.push_back(in.name());
        for (int i = 0; i < n; ++i) {
          for (const auto& out : g->node(i).output()) earlier.push_back(out);
        }
        node->set_input(Pick(node->input_size()), earlier[Pick(static_cast<int>(earlier.size()))]);
        break;
      }
      case 4: {  // a node input dropped, emptied, or one added
        onnx::NodeProto* node = g->mutable_node(Pick(g->node_size()));
        const int what = Pick(3);
        if (what == 0 && node->input_size() > 0) {
          node->mutable_input()->RemoveLast();
        } else if (what == 1 && node->input_size() > 0) {
          node->set_input(Pick(node->input_size()), "");
        } else {
          node->add_input(node->input_size() > 0 ? node->input(0) : "");
        }
        break;
      }
      case 5: {  // an attribute's value or kind
        onnx::NodeProto* node = g->mutable_node(Pick(g->node_size()));
        if (node->attribute_size() == 0) {
          SetAttrInt(*node, Pick(2) ? "axis" : "group", static_cast<int64_t>(Pick(5)) - 2);
          break;
        }
        onnx::AttributeProto* a = node->mutable_attribute(Pick(node->attribute_size()));
        static constexpr int64_t kInts[] = {-5, -1, 0, 1, 2, 3, 5, int64_t{1} << 31};
        if (a->type() == onnx::AttributeProto::INTS && a->ints_size() > 0 && Pick(3) > 0) {
          if (Pick(2)) {
            a->set_ints(Pick(a->ints_size()), kInts[Pick(8)]);
          } else {
            a->mutable_ints()->RemoveLast();
          }
        } else if (Pick(4) == 0) {
          a->set_type(onnx::AttributeProto::FLOAT);
          a->set_f(1.5f);
        } else {
          a->clear_ints();
          a->set_type(onnx::AttributeProto::INT);
          a->set_i(kInts[Pick(8)]);
        }
        break;
      }
      case 6: {  // an op replaced by another op of the same graph
        onnx::NodeProto* node = g->mutable_node(Pick(g->node_size()));
        const onnx::NodeProto& other = g->node(Pick(g->node_size()));
        node->set_op_type(other.op_type());
        node->set_domain(other.domain());
        break;
      }
      case 7: {  // a node's output renamed (its consumers dangle) or swapped with the next node's
        const int n = Pick(g->node_size());
        if (Pick(2) && n + 1 < g->node_size()) {
          g->mutable_node()->SwapElements(n, n + 1);
        } else if (g->node(n).output_size() > 0) {
          g->mutable_node(n)->set_output(0, g->node(n).output(0) + "_renamed");
        }
        break;
      }
      case 8: {  // a declaration: a graph input's or output's type or dims
        onnx::ValueInfoProto* vi = Pick(2) ? g->mutable_input(0) : g->mutable_output(0);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        if (Pick(2)) {
          static constexpr int kTypes[] = {TensorProto::UINT8, TensorProto::INT8,
                                           TensorProto::INT32, TensorProto::FLOAT16};
          tt->set_elem_type(kTypes[Pick(4)]);
        } else if (tt->shape().dim_size() > 0) {
          static constexpr int64_t kDims[] = {0, 1, 3, -7, int64_t{1} << 40};
          tt->mutable_shape()
              ->mutable_dim(Pick(tt->shape().dim_size()))
              ->set_dim_value(kDims[Pick(5)]);
        }
        break;
      }
    }
  }

 private:
  int Pick(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  onnx::TensorProto& RandomInit(onnx::GraphProto* g) {
    return *g->mutable_initializer(Pick(g->initializer_size()));
  }

  std::mt19937 rng_;
};

void MutateStructureAndLoad(const std::string& path, uint32_t seed, int iterations) {
  iterations = Scaled(iterations);
  const onnx::ModelProto base = Parsed(path);
  StructureMutator mutator(seed);
  std::mt19937 count_rng(seed + 1);
  int loaded = 0, failed = 0;
  for (int i = 0; i < iterations; ++i) {
    onnx::ModelProto m = base;
    const int edits = 1 + static_cast<int>(count_rng() % 2);
    for (int e = 0; e < edits; ++e) mutator.Mutate(m);
    const std::string file = WriteBytes(m.SerializeAsString(), "mutated.onnx");
    SCOPED_TRACE(::testing::Message() << path << " seed " << seed << " iteration " << i);
    auto model = LoadModel(file, FastLoad());
    if (model.ok()) {
      ++loaded;
      RunOnce(**model);
    } else {
      ++failed;
      EXPECT_THAT(std::string(model.status().message()), HasSubstr(file));
    }
  }
  EXPECT_GT(failed, 0) << path << ": no edit was caught at load";
}

TEST(BadModelStructureTest, MutatedQdqMlpNeverCrashes) { MutateStructureAndLoad(Digits(), 7, 80); }
TEST(BadModelStructureTest, MutatedQdqCnnNeverCrashes) { MutateStructureAndLoad(Cnn(), 8, 50); }
TEST(BadModelStructureTest, MutatedQLinearConvNeverCrashes) {
  MutateStructureAndLoad(ResnetQop(), 9, 50);
}
TEST(BadModelStructureTest, MutatedQLinearMatMulNeverCrashes) {
  MutateStructureAndLoad(MlpQop(), 10, 30);
}
TEST(BadModelStructureTest, MutatedDynamicQuantNeverCrashes) {
  MutateStructureAndLoad(MlpDynamic(), 11, 30);
}

}  // namespace
}  // namespace q8::engine
