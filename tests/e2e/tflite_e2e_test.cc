// TFLite models served end to end. The real q8serve runs on a temporary repository
//   hello/1/model.tflite = hello_world_float.tflite   (float32 in and out)
//   hello/2/model.tflite = hello_world_int8.tflite    (int8 in and out, renamed by the converter)
//   person/1/model.tflite = person_detect.tflite      (int8, no SignatureDef)
// and one float client request — `dense_input` → `dense_2`, the file's SignatureDef names —
// works against both hello versions over TF Serving Predict and KServe ModelInfer: for
// version 2 the server quantizes the float input with the input tensor's scale/zero point
// and dequantizes the int8 output. Both fit sin(x) on [0, 2π] within 0.1 and agree with
// each other within that.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "q8serve/v1/q8serve.grpc.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

namespace fs = std::filesystem;

std::string TfliteModel(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SharedDir() + "/testdata/models/tflite/" + name);
}

class TfliteE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new std::string(
        (fs::temp_directory_path() / ("q8serve-tflite-e2e-" + std::to_string(getpid()))).string());
    for (const char* dir : {"/hello/1", "/hello/2", "/person/1"})
      fs::create_directories(*repo_ + dir);
    fs::copy_file(TfliteModel("hello_world_float.tflite"), *repo_ + "/hello/1/model.tflite");
    fs::copy_file(TfliteModel("hello_world_int8.tflite"), *repo_ + "/hello/2/model.tflite");
    fs::copy_file(TfliteModel("person_detect.tflite"), *repo_ + "/person/1/model.tflite");
    // Both hello versions serve (the default policy is latest 1), so one test can ask each.
    std::ofstream(*repo_ + "/hello/config.pbtxt") << "version_policy { all {} }\n";
    server_ = new ServerProcess();
    std::string why;
    std::shared_ptr<grpc::Channel> channel = StartLoopbackServer(*server_, *repo_, &why);
    ASSERT_NE(channel, nullptr) << why;
    channel_ = new std::shared_ptr<grpc::Channel>(std::move(channel));
  }

  static void TearDownTestSuite() {
    delete channel_;
    EXPECT_EQ(server_->Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_->log();
    delete server_;
    std::error_code ec;
    fs::remove_all(*repo_, ec);
    delete repo_;
  }

  void SetUp() override { ASSERT_NE(channel_, nullptr) << "server did not start"; }

  static std::string FloatBytes(float v) { return std::string(reinterpret_cast<char*>(&v), 4); }

  // The same float request, by TF Serving Predict.
  static std::optional<float> PredictTf(int64_t version, float x) {
    tensorflow::serving::PredictRequest request;
    request.mutable_model_spec()->set_name("hello");
    request.mutable_model_spec()->mutable_version()->set_value(version);
    tensorflow::TensorProto& in = (*request.mutable_inputs())["dense_input"];
    in.set_dtype(tensorflow::DT_FLOAT);
    in.mutable_tensor_shape()->add_dim()->set_size(1);
    in.mutable_tensor_shape()->add_dim()->set_size(1);
    in.set_tensor_content(FloatBytes(x));
    tensorflow::serving::PredictResponse response;
    grpc::Status status = tensorflow::serving::PredictionService::NewStub(*channel_)->Predict(
        Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << "v" << version << ": " << status.error_message();
    if (!status.ok() || !response.outputs().count("dense_2")) return std::nullopt;
    const tensorflow::TensorProto& out = response.outputs().at("dense_2");
    EXPECT_EQ(out.dtype(), tensorflow::DT_FLOAT);
    std::vector<float> v = out.tensor_content().empty()
                               ? std::vector<float>(out.float_val().begin(), out.float_val().end())
                               : AsFloats(out.tensor_content());
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? std::nullopt : std::optional<float>(v[0]);
  }

  // The same float request, by KServe ModelInfer.
  static std::optional<float> PredictKServe(int64_t version, float x) {
    inference::ModelInferRequest request;
    request.set_model_name("hello");
    request.set_model_version(std::to_string(version));
    auto* in = request.add_inputs();
    in->set_name("dense_input");
    in->set_datatype("FP32");
    in->add_shape(1);
    in->add_shape(1);
    request.add_raw_input_contents(FloatBytes(x));
    inference::ModelInferResponse response;
    grpc::Status status = inference::GRPCInferenceService::NewStub(*channel_)->ModelInfer(
        Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << "v" << version << ": " << status.error_message();
    if (!status.ok() || response.outputs_size() != 1) return std::nullopt;
    EXPECT_EQ(response.outputs(0).name(), "dense_2");
    EXPECT_EQ(response.outputs(0).datatype(), "FP32");
    if (response.raw_output_contents_size() != 1) return std::nullopt;
    std::vector<float> v = AsFloats(response.raw_output_contents(0));
    return v.size() == 1 ? std::optional<float>(v[0]) : std::nullopt;
  }

  static std::string* repo_;
  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* TfliteE2eTest::repo_ = nullptr;
ServerProcess* TfliteE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* TfliteE2eTest::channel_ = nullptr;

// 17 points on [0, 2π], both versions, both wire APIs: 68 bounded RPCs.
TEST_F(TfliteE2eTest, FloatClientGetsSineFromFloatAndInt8VersionsOverBothApis) {
  constexpr int kPoints = 17;
  for (int i = 0; i < kPoints; ++i) {
    const float x = static_cast<float>(2 * M_PI * i / (kPoints - 1));
    auto v1 = PredictTf(1, x), v2 = PredictTf(2, x);
    auto k1 = PredictKServe(1, x), k2 = PredictKServe(2, x);
    ASSERT_TRUE(v1 && v2 && k1 && k2) << "x = " << x;
    EXPECT_NEAR(*v1, std::sin(x), 0.1) << "float model, x = " << x;
    if (i + 1 < kPoints) {
      EXPECT_NEAR(*v2, std::sin(x), 0.1) << "int8 model, x = " << x;
    } else {
      // x = 2π lies past the int8 input's range, which ends at (127 + 128)·0.02448 = 6.2424;
      // there the standard TFLite interpreter itself answers int8 -9, i.e. -0.1161 (run.js
      // on input 127): the model's own error at its clipped end. The engine must give that,
      // within one output step (0.00829).
      EXPECT_NEAR(*v2, -0.1161, 0.0084) << "int8 model at its saturated input, x = " << x;
    }
    EXPECT_NEAR(*v1, *v2, 0.1) << "versions disagree beyond the int8 model's error, x = " << x;
    EXPECT_EQ(*k1, *v1) << "the two APIs run the same model, x = " << x;
    EXPECT_EQ(*k2, *v2) << "the two APIs run the same model, x = " << x;
  }
}

// GetSignature shows, per logical name, the TFLite tensor, the client dtype, the tensor's
// own dtype and shape, its quantization, the conversion and where the names came from.
TEST_F(TfliteE2eTest, GetSignatureShowsTfliteTensorsAndQuantization) {
  auto stub = q8serve::v1::Q8Serve::NewStub(*channel_);
  for (int64_t version : {1, 2}) {
    q8serve::v1::GetSignatureRequest request;
    request.set_model_name("hello");
    request.set_version(version);
    q8serve::v1::GetSignatureResponse response;
    grpc::Status status = stub->GetSignature(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.signature_name(), "serving_default");
    ASSERT_EQ(response.inputs_size(), 1);
    ASSERT_EQ(response.outputs_size(), 1);
    const auto& in = response.inputs(0);
    const auto& out = response.outputs(0);
    EXPECT_EQ(in.logical_name(), "dense_input");
    EXPECT_EQ(in.tensor_name(), "serving_default_dense_input:0");
    EXPECT_EQ(out.logical_name(), "dense_2");
    EXPECT_EQ(out.tensor_name(), "StatefulPartitionedCall:0");
    EXPECT_EQ(in.dtype(), "float32");
    EXPECT_EQ(out.dtype(), "float32");
    EXPECT_EQ(std::vector<int64_t>(in.shape().begin(), in.shape().end()),
              (std::vector<int64_t>{1, 1}));
    EXPECT_EQ(in.source(), "model metadata") << "the SignatureDef, embedded by the importer";
    if (version == 1) {
      EXPECT_EQ(in.tensor_dtype(), "float32");
      EXPECT_EQ(in.conversion(), "");
      continue;
    }
    EXPECT_EQ(in.tensor_dtype(), "int8");
    EXPECT_EQ(out.tensor_dtype(), "int8");
    EXPECT_EQ(in.conversion(), "quantize");
    EXPECT_EQ(out.conversion(), "dequantize");
    EXPECT_EQ(in.quant().storage_dtype(), "int8");
    ASSERT_EQ(in.quant().scales_size(), 1);
    // The file's parameters (flatc --json of hello_world_int8.tflite): the input maps
    // [-128, 127] onto about [0, 6.24], so zero point -128.
    EXPECT_NEAR(in.quant().scales(0), 0.0245, 0.0001);
    EXPECT_EQ(in.quant().zero_points(0), -128);
    EXPECT_FALSE(in.quant().per_channel());
    EXPECT_EQ(out.quant().storage_dtype(), "int8");
  }
}

// A full-integer model without a SignatureDef serves its int8 tensors as they are:
// person_detect over KServe with the upstream test image's pixels as INT8.
TEST_F(TfliteE2eTest, Int8ClientRunsPersonDetect) {
  std::ifstream f(TfliteModel("person.bmp"), std::ios::binary);
  std::string bmp((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GE(bmp.size(), 54u + 96 * 96);
  uint32_t offset;
  std::memcpy(&offset, bmp.data() + 10, 4);
  ASSERT_LE(offset + 96 * 96, bmp.size());
  std::string pixels(96 * 96, '\0');
  for (int row = 0; row < 96; ++row) {  // BMP rows are stored bottom-up
    std::memcpy(&pixels[row * 96], bmp.data() + offset + (95 - row) * 96, 96);
  }
  inference::ModelInferRequest request;
  request.set_model_name("person");
  auto* in = request.add_inputs();
  in->set_name("input");
  in->set_datatype("INT8");
  for (int d : {1, 96, 96, 1}) in->add_shape(d);
  request.add_raw_input_contents(pixels);
  inference::ModelInferResponse response;
  grpc::Status status = inference::GRPCInferenceService::NewStub(*channel_)->ModelInfer(
      Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << server_->log();
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).datatype(), "INT8");
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  const std::string& scores = response.raw_output_contents(0);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_GT(static_cast<int8_t>(scores[1]), static_cast<int8_t>(scores[0])) << "person > no person";
}

}  // namespace
}  // namespace q8::e2e
