// The product promise, end to end: a client written against a float model keeps working
// unchanged when version 2 of the model is its int8 form with renamed, quantized graph
// I/O (onnxruntime QDQ style: `images_QuantizeLinear_Output` uint8 in, `logits_
// QuantizeLinear_Output` uint8 out). The real q8serve runs on a temporary repository
// {digits/1: float model, digits/2: renamed int8 model}; the client sends float `images`
// and reads float `logits` over both wire APIs, and the q8serve API explains the bindings.
// The same server also serves the bench MLP's QDQ (v1) and QOperator (v2) exports under
// one set of names, and the QOperator export under names from a signatures.pbtxt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "q8serve/v1/q8serve.grpc.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class SignatureE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new std::string(
        (fs::temp_directory_path() / ("q8serve-sig-e2e-" + std::to_string(getpid()))).string());
    fs::create_directories(*repo_ + "/digits/1");
    fs::create_directories(*repo_ + "/digits/2");
    fs::copy_file(q8::testing::RequireFile(Examples() + "/model_float.onnx"),
                  *repo_ + "/digits/1/model.onnx");
    fs::copy_file(q8::testing::RequireFile(q8::testing::SourceDir() +
                                           "/tests/fixtures/signature/digits_uint8_io.onnx"),
                  *repo_ + "/digits/2/model.onnx");
    // The bench MLP in its two quantized export forms (QDQ, then QOperator), and the
    // QOperator export again under names a signature file declares.
    const std::string bench = q8::testing::SharedDir() + "/bench/models/";
    fs::create_directories(*repo_ + "/mlp/1");
    fs::create_directories(*repo_ + "/mlp/2");
    fs::create_directories(*repo_ + "/mlp_named/1");
    fs::copy_file(q8::testing::RequireFile(bench + "mlp_qdq.onnx"), *repo_ + "/mlp/1/model.onnx");
    fs::copy_file(q8::testing::RequireFile(bench + "mlp_qop.onnx"), *repo_ + "/mlp/2/model.onnx");
    fs::copy_file(bench + "mlp_qop.onnx", *repo_ + "/mlp_named/1/model.onnx");
    // These tests call both versions of digits and mlp: serve every version (the default
    // policy, latest 1, would serve only version 2).
    std::ofstream(*repo_ + "/digits/config.pbtxt") << "version_policy { all {} }\n";
    std::ofstream(*repo_ + "/mlp/config.pbtxt") << "version_policy { all {} }\n";
    std::ofstream(*repo_ + "/mlp_named/signatures.pbtxt") << R"pb(
      signatures {
        name: "classify"
        inputs { name: "pixels" dtype: "float32" shape: [-1, 784] }
        outputs { name: "scores" }
      }
    )pb";
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

  static std::vector<float> PredictLogits(std::optional<int64_t> version, int64_t* served_version) {
    tensorflow::serving::PredictRequest request = TfRequest(Batch4Bytes(), 4);
    if (version) request.mutable_model_spec()->mutable_version()->set_value(*version);
    tensorflow::serving::PredictResponse response;
    grpc::Status status = tensorflow::serving::PredictionService::NewStub(*channel_)->Predict(
        Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    *served_version = response.model_spec().version().value();
    const tensorflow::TensorProto& logits = response.outputs().at("logits");
    EXPECT_EQ(logits.dtype(), tensorflow::DT_FLOAT);
    return AsFloats(logits.tensor_content());
  }

  static std::string* repo_;
  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* SignatureE2eTest::repo_ = nullptr;
ServerProcess* SignatureE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* SignatureE2eTest::channel_ = nullptr;

TEST_F(SignatureE2eTest, TfServingClientKeepsWorkingAcrossTheInt8Version) {
  int64_t v_latest = 0, v_float = 0;
  std::vector<float> int8 = PredictLogits(std::nullopt, &v_latest);
  std::vector<float> fp32 = PredictLogits(1, &v_float);
  EXPECT_EQ(v_latest, 2) << "latest is the renamed int8 version";
  EXPECT_EQ(v_float, 1);
  ASSERT_EQ(int8.size(), 40u);
  ASSERT_EQ(fp32.size(), 40u);
  EXPECT_EQ(Argmax(int8, 10), Batch4Labels());
  EXPECT_EQ(Argmax(fp32, 10), Batch4Labels());
  // Same classifier: the int8 logits stay close to the float ones (uint8 output
  // quantization and int8 weights account for the difference).
  float max_abs = 0, max_diff = 0;
  for (size_t i = 0; i < fp32.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(fp32[i]));
    max_diff = std::max(max_diff, std::abs(fp32[i] - int8[i]));
  }
  EXPECT_LT(max_diff, 0.05f * max_abs);
}

TEST_F(SignatureE2eTest, KServeClientKeepsWorkingAcrossTheInt8Version) {
  inference::ModelInferRequest request = KServeRequest(Batch4Bytes(), 4);
  request.add_outputs()->set_name("logits");
  inference::ModelInferResponse response;
  grpc::Status status = inference::GRPCInferenceService::NewStub(*channel_)->ModelInfer(
      Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model_version(), "2");
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "logits");
  EXPECT_EQ(response.outputs(0).datatype(), "FP32");
  EXPECT_EQ(Argmax(AsFloats(response.raw_output_contents(0)), 10), Batch4Labels());
}

TEST_F(SignatureE2eTest, UnknownOutputNameListsTheLogicalOnes) {
  tensorflow::serving::PredictRequest request = TfRequest(Batch4Bytes(), 4);
  request.add_output_filter("logits_QuantizeLinear_Output");  // the graph name is not a logical one
  tensorflow::serving::PredictResponse response;
  grpc::Status status = tensorflow::serving::PredictionService::NewStub(*channel_)->Predict(
      Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("{logits}"));
}

TEST_F(SignatureE2eTest, MetadataShowsLogicalNamesOverBoundTensors) {
  tensorflow::serving::GetModelMetadataRequest request;
  request.mutable_model_spec()->set_name("digits");
  request.add_metadata_field("signature_def");
  tensorflow::serving::GetModelMetadataResponse response;
  ASSERT_TRUE(tensorflow::serving::PredictionService::NewStub(*channel_)
                  ->GetModelMetadata(Context().get(), request, &response)
                  .ok());
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(response.metadata().at("signature_def").UnpackTo(&map));
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.inputs().at("images").name(), "images_QuantizeLinear_Output");
  EXPECT_EQ(def.inputs().at("images").dtype(), tensorflow::DT_FLOAT) << "clients send float";
  EXPECT_EQ(def.outputs().at("logits").dtype(), tensorflow::DT_FLOAT);

  inference::ModelMetadataRequest kreq;
  kreq.set_name("digits");
  inference::ModelMetadataResponse kresp;
  ASSERT_TRUE(inference::GRPCInferenceService::NewStub(*channel_)
                  ->ModelMetadata(Context().get(), kreq, &kresp)
                  .ok());
  ASSERT_EQ(kresp.inputs_size(), 1);
  EXPECT_EQ(kresp.inputs(0).name(), "images");
  EXPECT_EQ(kresp.inputs(0).datatype(), "FP32");
}

TEST_F(SignatureE2eTest, GetSignatureExplainsRuleSourceAndConversion) {
  q8serve::v1::GetSignatureRequest request;
  request.set_model_name("digits");
  q8serve::v1::GetSignatureResponse response;
  ASSERT_TRUE(q8serve::v1::Q8Serve::NewStub(*channel_)->GetSignature(Context().get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2);
  ASSERT_EQ(response.inputs_size(), 1);
  const q8serve::v1::TensorBinding& images = response.inputs(0);
  EXPECT_EQ(images.logical_name(), "images");
  EXPECT_EQ(images.tensor_name(), "images_QuantizeLinear_Output");
  EXPECT_EQ(images.rule(), "normalized");
  EXPECT_EQ(images.source(), "version 1");
  EXPECT_EQ(images.conversion(), "quantize");
  EXPECT_EQ(images.dtype(), "float32");
  EXPECT_EQ(images.tensor_dtype(), "uint8");
  EXPECT_EQ(images.quant().storage_dtype(), "uint8");
  EXPECT_GT(images.quant().scales(0), 0.f);
  EXPECT_THAT(images.explanation(), HasSubstr("normalizes to 'images'"));
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).conversion(), "dequantize");
}

TEST_F(SignatureE2eTest, GetGraphFiltersTensorsAndNodesByPattern) {
  q8serve::v1::GetGraphRequest request;
  request.set_model_name("digits");
  request.set_pattern("^/fc[12]/Gemm");
  q8serve::v1::GetGraphResponse response;
  auto stub = q8serve::v1::Q8Serve::NewStub(*channel_);
  ASSERT_TRUE(stub->GetGraph(Context().get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2);
  EXPECT_GT(response.total_nodes(), response.nodes_size());
  ASSERT_EQ(response.nodes_size(), 2);
  for (const auto& n : response.nodes()) {
    EXPECT_EQ(n.op_type(), "Gemm");
    EXPECT_THAT(n.name(), ::testing::MatchesRegex("/fc[12]/Gemm"));
  }
  for (const auto& t : response.tensors()) EXPECT_THAT(t.name() + t.producer_node(), HasSubstr("/fc"));

  request.set_pattern("QuantizeLinear_Output$");  // the graph's quantized I/O is marked
  ASSERT_TRUE(stub->GetGraph(Context().get(), request, &response).ok());
  bool saw_input = false;
  for (const auto& t : response.tensors()) saw_input |= t.is_input() && t.dtype() == "uint8";
  EXPECT_TRUE(saw_input);

  request.set_pattern("(unclosed");
  grpc::Status bad = stub->GetGraph(Context().get(), request, &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("RE2"));
}

// Reads an .npy fixture as raw bytes (float32).
std::string NpyBytes(const std::string& path, std::vector<int64_t>* shape) {
  absl::StatusOr<client::HostTensor> t = client::ReadNpyFile(q8::testing::RequireFile(path));
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return "";
  *shape = t->shape;
  return t->data;
}

// The bench models' tensor names are those of a quantized export; served as two versions,
// a client of version 1 gets version 2's answer under the same names, and both match
// onnxruntime's outputs on the same inputs (tests/fixtures/ort).
TEST_F(SignatureE2eTest, BenchMlpQdqThenQOperatorServeTheSameNames) {
  for (const auto& [version, form] : {std::pair<int64_t, const char*>{1, "mlp_qdq"}, {2, "mlp_qop"}}) {
    const std::string fixture = q8::testing::SourceDir() + "/tests/fixtures/ort/" + form;
    std::vector<int64_t> in_shape, out_shape;
    const std::string input = NpyBytes(fixture + "/input.npy", &in_shape);
    const std::vector<float> want = AsFloats(NpyBytes(fixture + "/logits.out.npy", &out_shape));
    inference::ModelInferRequest request;
    request.set_model_name("mlp");
    request.set_model_version(std::to_string(version));
    auto* in = request.add_inputs();
    in->set_name("input");
    in->set_datatype("FP32");
    for (int64_t d : in_shape) in->add_shape(d);
    request.add_raw_input_contents(input);
    inference::ModelInferResponse response;
    grpc::Status status = inference::GRPCInferenceService::NewStub(*channel_)->ModelInfer(
        Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << form << ": " << status.error_message();
    ASSERT_EQ(response.outputs(0).name(), "logits");
    const std::vector<float> got = AsFloats(response.raw_output_contents(0));
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(Argmax(got, 10), Argmax(want, 10)) << form << " agrees with onnxruntime";
  }
  q8serve::v1::GetSignatureRequest request;
  request.set_model_name("mlp");
  q8serve::v1::GetSignatureResponse response;
  ASSERT_TRUE(q8serve::v1::Q8Serve::NewStub(*channel_)->GetSignature(Context().get(), request, &response).ok());
  EXPECT_EQ(response.version(), 2);
  EXPECT_EQ(response.inputs(0).source(), "version 1");
  EXPECT_EQ(response.inputs(0).rule(), "exact");
}

TEST_F(SignatureE2eTest, SignatureFileNamesServeTheQOperatorExport) {
  tensorflow::serving::PredictRequest request;
  request.mutable_model_spec()->set_name("mlp_named");  // default signature: "classify"
  tensorflow::TensorProto& pixels = (*request.mutable_inputs())["pixels"];
  pixels.set_dtype(tensorflow::DT_FLOAT);
  pixels.mutable_tensor_shape()->add_dim()->set_size(1);
  pixels.mutable_tensor_shape()->add_dim()->set_size(784);
  pixels.add_float_val(0.5f);  // TF Serving's broadcast of a single value
  tensorflow::serving::PredictResponse response;
  grpc::Status status = tensorflow::serving::PredictionService::NewStub(*channel_)->Predict(
      Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(response.outputs().contains("scores"));
  EXPECT_EQ(response.outputs().at("scores").tensor_shape().dim(1).size(), 10);

  q8serve::v1::GetSignatureRequest sig_request;
  sig_request.set_model_name("mlp_named");
  q8serve::v1::GetSignatureResponse sig;
  ASSERT_TRUE(q8serve::v1::Q8Serve::NewStub(*channel_)->GetSignature(Context().get(), sig_request, &sig).ok());
  EXPECT_EQ(sig.signature_name(), "classify");
  EXPECT_EQ(sig.inputs(0).tensor_name(), "input");
  EXPECT_EQ(sig.inputs(0).rule(), "unique_role");
  EXPECT_EQ(sig.inputs(0).source(), "signatures.pbtxt");
  EXPECT_EQ(sig.outputs(0).tensor_name(), "logits");
}

}  // namespace
}  // namespace q8::e2e
