// End-to-end: the real q8serve binary, started on 127.0.0.1 with port 0 on the default
// model repository (deploy/models: digits v1, images float32 [N,64] → logits [N,10]),
// checked by VALUE over both wire APIs, the q8serve API, gRPC health and /metrics,
// against the engine run in this process. Every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/npy.h"
#include "engine/engine.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "q8serve/v1/q8serve.grpc.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/common/test_env.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::HasSubstr;
class ServerE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    std::string why;
    std::shared_ptr<grpc::Channel> channel = StartLoopbackServer(*server_, Repository(), &why);
    ASSERT_NE(channel, nullptr) << why;
    channel_ = new std::shared_ptr<grpc::Channel>(std::move(channel));
  }

  static void TearDownTestSuite() {
    delete channel_;
    channel_ = nullptr;
    // Graceful shutdown of the shared server is part of the contract: SIGTERM → exit 0.
    std::optional<int> code = server_->Stop(SIGTERM, kExitTimeout);
    EXPECT_EQ(code, std::optional<int>(0))
        << "server did not exit 0 within " << kExitTimeout.count() << " s\n"
        << server_->log();
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(channel_, nullptr) << "server did not start";
    ASSERT_GT(server_->grpc_port(), 0);
  }

  static std::unique_ptr<tensorflow::serving::PredictionService::Stub> TfStub() {
    return tensorflow::serving::PredictionService::NewStub(*channel_);
  }
  static std::unique_ptr<inference::GRPCInferenceService::Stub> KServeStub() {
    return inference::GRPCInferenceService::NewStub(*channel_);
  }

  // Logits of the engine run here, in process, on the same model and bytes.
  static std::vector<float> InProcessLogits(const std::string& bytes, int64_t rows) {
    absl::StatusOr<std::shared_ptr<const engine::Model>> model =
        engine::LoadModel(Repository() + "/digits/1/model.onnx");
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return {};
    engine::RunContext ctx;
    engine::TensorView view{engine::DType::kFloat32, {rows, 64}, bytes.data()};
    absl::StatusOr<std::vector<engine::Tensor>> out = (*model)->Run(ctx, {view});
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return {};
    const float* p = (*out)[0].data_as<float>();
    return std::vector<float>(p, p + (*out)[0].num_elements());
  }

  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

ServerProcess* ServerE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* ServerE2eTest::channel_ = nullptr;

TEST_F(ServerE2eTest, PredictMatchesInProcessEngineAndLabels) {
  const std::string bytes = Batch4Bytes();
  tensorflow::serving::PredictResponse response;
  grpc::Status status = TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(response.outputs().contains("logits"));
  const tensorflow::TensorProto& logits = response.outputs().at("logits");
  EXPECT_EQ(logits.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(logits.tensor_shape().dim_size(), 2);
  EXPECT_EQ(logits.tensor_shape().dim(0).size(), 4);
  EXPECT_EQ(logits.tensor_shape().dim(1).size(), 10);
  EXPECT_EQ(response.model_spec().name(), "digits");
  EXPECT_EQ(response.model_spec().version().value(), 1);

  const std::vector<float> served = AsFloats(logits.tensor_content());
  const std::vector<float> local = InProcessLogits(bytes, 4);
  ASSERT_EQ(served.size(), 40u);
  ASSERT_EQ(local.size(), 40u);
  for (size_t i = 0; i < served.size(); ++i) {
    EXPECT_NEAR(served[i], local[i], 1e-4f * std::max(1.0f, std::abs(local[i]))) << i;
  }

  std::ifstream labels_file(q8::testing::RequireFile(Examples() + "/batch4_labels.json"));
  std::stringstream labels_text;
  labels_text << labels_file.rdbuf();
  std::vector<int> labels;
  const std::string text = labels_text.str();
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(text.begin(), text.end(), number), end; it != end; ++it) {
    labels.push_back(std::stoi(it->str()));
  }
  EXPECT_EQ(Argmax(served, 10), labels);
}

TEST_F(ServerE2eTest, PredictFloatValEqualsTensorContent) {
  const std::string bytes = Batch4Bytes();
  tensorflow::serving::PredictResponse by_content;
  ASSERT_TRUE(TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &by_content).ok());

  tensorflow::serving::PredictRequest typed = TfRequest("", 4);
  for (float v : AsFloats(bytes)) (*typed.mutable_inputs())["images"].add_float_val(v);
  tensorflow::serving::PredictResponse by_values;
  grpc::Status status = TfStub()->Predict(Context().get(), typed, &by_values);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(by_values.outputs().at("logits").tensor_content(),
            by_content.outputs().at("logits").tensor_content());
}

TEST_F(ServerE2eTest, ModelInferRawAndTypedMatchPredict) {
  const std::string bytes = Batch4Bytes();
  tensorflow::serving::PredictResponse predicted;
  ASSERT_TRUE(TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &predicted).ok());
  const std::string& tf_logits = predicted.outputs().at("logits").tensor_content();

  inference::ModelInferRequest raw = KServeRequest(bytes, 4);
  raw.set_id("e2e-1");
  inference::ModelInferResponse raw_response;
  grpc::Status status = KServeStub()->ModelInfer(Context().get(), raw, &raw_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(raw_response.id(), "e2e-1");
  EXPECT_EQ(raw_response.model_name(), "digits");
  EXPECT_EQ(raw_response.model_version(), "1");
  ASSERT_EQ(raw_response.outputs_size(), 1);
  EXPECT_EQ(raw_response.outputs(0).name(), "logits");
  EXPECT_EQ(raw_response.outputs(0).datatype(), "FP32");
  ASSERT_EQ(raw_response.raw_output_contents_size(), 1);
  EXPECT_EQ(raw_response.raw_output_contents(0), tf_logits);  // identical across APIs

  inference::ModelInferRequest typed = KServeRequest("", 4);
  typed.clear_raw_input_contents();
  for (float v : AsFloats(bytes)) typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(v);
  typed.add_outputs()->set_name("logits");
  inference::ModelInferResponse typed_response;
  status = KServeStub()->ModelInfer(Context().get(), typed, &typed_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(typed_response.raw_output_contents_size(), 1);
  EXPECT_EQ(typed_response.raw_output_contents(0), tf_logits);
}

TEST_F(ServerE2eTest, GetModelMetadataReturnsSignatureDef) {
  tensorflow::serving::GetModelMetadataRequest request;
  request.mutable_model_spec()->set_name("digits");
  request.add_metadata_field("signature_def");
  tensorflow::serving::GetModelMetadataResponse response;
  grpc::Status status = TfStub()->GetModelMetadata(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(response.metadata().at("signature_def").UnpackTo(&map));
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  EXPECT_EQ(def.inputs().at("images").dtype(), tensorflow::DT_FLOAT);
  EXPECT_EQ(def.inputs().at("images").tensor_shape().dim(1).size(), 64);
  EXPECT_EQ(def.outputs().at("logits").tensor_shape().dim(1).size(), 10);

  request.set_metadata_field(0, "nonsense");
  status = TfStub()->GetModelMetadata(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerE2eTest, KServeLivenessReadinessAndMetadata) {
  auto stub = KServeStub();
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub->ServerLive(Context().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub->ServerReady(Context().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready());

  inference::ModelReadyRequest model_ready;
  model_ready.set_name("digits");
  inference::ModelReadyResponse model_ready_response;
  ASSERT_TRUE(stub->ModelReady(Context().get(), model_ready, &model_ready_response).ok());
  EXPECT_TRUE(model_ready_response.ready());
  model_ready.set_name("no-such-model");
  ASSERT_TRUE(stub->ModelReady(Context().get(), model_ready, &model_ready_response).ok());
  EXPECT_FALSE(model_ready_response.ready());

  inference::ServerMetadataResponse server_metadata;
  ASSERT_TRUE(stub->ServerMetadata(Context().get(), {}, &server_metadata).ok());
  EXPECT_EQ(server_metadata.name(), "q8serve");
  EXPECT_FALSE(server_metadata.version().empty());

  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("digits");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(stub->ModelMetadata(Context().get(), metadata_request, &metadata).ok());
  EXPECT_EQ(metadata.platform(), "onnx_int8");
  ASSERT_EQ(metadata.versions_size(), 1);
  EXPECT_EQ(metadata.versions(0), "1");
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).name(), "images");
  EXPECT_EQ(metadata.inputs(0).datatype(), "FP32");
  EXPECT_THAT(metadata.inputs(0).shape(), ::testing::ElementsAre(-1, 64));
  ASSERT_EQ(metadata.outputs_size(), 1);
  EXPECT_THAT(metadata.outputs(0).shape(), ::testing::ElementsAre(-1, 10));
}

TEST_F(ServerE2eTest, GetSignatureExplainsBindings) {
  auto stub = q8serve::v1::Q8Serve::NewStub(*channel_);
  q8serve::v1::GetSignatureRequest request;
  request.set_model_name("digits");
  q8serve::v1::GetSignatureResponse response;
  grpc::Status status = stub->GetSignature(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.version(), 1);
  EXPECT_EQ(response.signature_name(), "serving_default");
  ASSERT_EQ(response.inputs_size(), 1);
  EXPECT_EQ(response.inputs(0).logical_name(), "images");
  EXPECT_EQ(response.inputs(0).dtype(), "float32");
  EXPECT_EQ(response.inputs(0).rule(), "graph_input");
  EXPECT_THAT(response.inputs(0).explanation(), HasSubstr("model.onnx"));
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).logical_name(), "logits");

  request.set_model_name("nope");
  status = stub->GetSignature(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("digits"));
}

TEST_F(ServerE2eTest, HealthIsServingForServerAndEachService) {
  auto stub = grpc::health::v1::Health::NewStub(*channel_);
  for (const char* service : {"", "tensorflow.serving.PredictionService",
                              "inference.GRPCInferenceService", "q8serve.v1.Q8Serve"}) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  grpc::health::v1::HealthCheckRequest unknown;
  unknown.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(stub->Check(Context().get(), unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerE2eTest, BadRequestsGetClearStatuses) {
  const std::string bytes = Batch4Bytes();
  auto tf = TfStub();
  tensorflow::serving::PredictResponse response;

  tensorflow::serving::PredictRequest unknown_model = TfRequest(bytes, 4);
  unknown_model.mutable_model_spec()->set_name("mnist");
  grpc::Status status = tf->Predict(Context().get(), unknown_model, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("Available models: {digits}"));

  tensorflow::serving::PredictRequest wrong_name = TfRequest(bytes, 4);
  const tensorflow::TensorProto images = wrong_name.inputs().at("images");
  (*wrong_name.mutable_inputs())["image"] = images;
  wrong_name.mutable_inputs()->erase("images");
  status = tf->Predict(Context().get(), wrong_name, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("Missing but required: {images}"));

  tensorflow::serving::PredictRequest wrong_dtype = TfRequest("", 1);
  (*wrong_dtype.mutable_inputs())["images"].set_dtype(tensorflow::DT_INT32);
  (*wrong_dtype.mutable_inputs())["images"].add_int_val(0);  // broadcast
  status = tf->Predict(Context().get(), wrong_dtype, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("expects float32"));

  status = tf->Predict(Context().get(), TfRequest(bytes.substr(0, 4 * 63 * 4), 4, 63), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("expects [?,64]"));

  status = tf->Predict(Context().get(), TfRequest(bytes.substr(0, 100), 4), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("expected 1024"));

  auto kserve = KServeStub();
  inference::ModelInferResponse infer_response;
  status = kserve->ModelInfer(Context().get(), KServeRequest(bytes.substr(0, 4 * 63 * 4), 4, 63),
                              &infer_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("expects [?,64]"));

  inference::ModelInferRequest unknown_output = KServeRequest(bytes, 4);
  unknown_output.add_outputs()->set_name("probs");
  status = kserve->ModelInfer(Context().get(), unknown_output, &infer_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("Valid outputs: {logits}"));

  // The server is still fine afterwards.
  EXPECT_TRUE(tf->Predict(Context().get(), TfRequest(bytes, 4), &response).ok());
}

TEST_F(ServerE2eTest, ConcurrentRequestsAllGetTheSameLogits) {
  // Several handler threads share the servable's RunContext pool; each answer must be
  // the same as a lone request's.
  const std::string bytes = Batch4Bytes();
  tensorflow::serving::PredictResponse expected;
  ASSERT_TRUE(TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &expected).ok());
  const std::string want = expected.outputs().at("logits").tensor_content();
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 25;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if ((t + i) % 2 == 0) {
          tensorflow::serving::PredictResponse r;
          grpc::Status s = TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &r);
          if (!s.ok() || r.outputs().at("logits").tensor_content() != want) ++mismatches;
        } else {
          inference::ModelInferResponse r;
          grpc::Status s = KServeStub()->ModelInfer(Context().get(), KServeRequest(bytes, 4), &r);
          if (!s.ok() || r.raw_output_contents_size() != 1 || r.raw_output_contents(0) != want) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(ServerE2eTest, MetricsCountRequestsByStatus) {
  const std::string bytes = Batch4Bytes();
  constexpr int kOkCalls = 3;
  for (int i = 0; i < kOkCalls; ++i) {
    tensorflow::serving::PredictResponse response;
    ASSERT_TRUE(TfStub()->Predict(Context().get(), TfRequest(bytes, 4), &response).ok());
    inference::ModelInferResponse infer;
    ASSERT_TRUE(KServeStub()->ModelInfer(Context().get(), KServeRequest(bytes, 4), &infer).ok());
  }
  tensorflow::serving::PredictResponse response;
  ASSERT_EQ(TfStub()
                ->Predict(Context().get(), TfRequest(bytes.substr(0, 63 * 16), 4, 63), &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const std::string text = HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_FALSE(text.empty()) << "GET /metrics on port " << server_->metrics_port() << " failed";
  EXPECT_GE(SumMetric(text, "q8serve_requests_total",
                      {"model=\"digits\"", "api=\"tfserving\"", "status=\"OK\"", "version=\"1\""}),
            kOkCalls);
  EXPECT_GE(SumMetric(text, "q8serve_requests_total",
                      {"model=\"digits\"", "api=\"kserve\"", "status=\"OK\""}),
            kOkCalls);
  EXPECT_GE(SumMetric(text, "q8serve_requests_total",
                      {"model=\"digits\"", "status=\"INVALID_ARGUMENT\""}),
            1);
  EXPECT_GE(SumMetric(text, "q8serve_request_duration_seconds_count",
                      {"model=\"digits\"", "api=\"tfserving\""}),
            kOkCalls);
  EXPECT_EQ(SumMetric(text, "q8serve_model_state",
                      {"model=\"digits\"", "version=\"1\"", "state=\"available\""}),
            1);
  EXPECT_THAT(text, HasSubstr("q8serve_model_load_duration_seconds{"));
}

TEST(ServerProcessTest, SigtermDuringServiceExitsZero) {
  ServerProcess server;
  ASSERT_TRUE(server.Start(ServerBinary(), {"--model-repository=" + Repository(), "--grpc-port=0",
                                            "--metrics-port=0", "--host=127.0.0.1"}))
      << server.error();
  ASSERT_TRUE(server.WaitReady(kReadyTimeout)) << server.error() << "\n" << server.log();
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("received SIGTERM"));
}

TEST(ServerProcessTest, EmptyRepositoryExitsNonZeroWithAClearMessage) {
  ServerProcess server;
  const std::string empty =
      (std::filesystem::temp_directory_path() / "q8serve_e2e_empty_repo").string();
  std::filesystem::create_directories(empty);
  ASSERT_TRUE(server.Start(ServerBinary(), {"--model-repository=" + empty, "--grpc-port=0",
                                            "--metrics-port=0", "--host=127.0.0.1"}))
      << server.error();
  std::optional<int> code = server.WaitExit(kReadyTimeout);
  ASSERT_TRUE(code.has_value()) << "server with nothing to serve did not exit";
  EXPECT_NE(*code, 0);
  EXPECT_THAT(server.log(), HasSubstr("no model could be loaded"));
  std::filesystem::remove_all(empty);
}

}  // namespace
}  // namespace q8::e2e
