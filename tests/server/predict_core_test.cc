#include "server/inference/predict_core.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "prometheus/text_serializer.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using ::testing::HasSubstr;

class PredictCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
        ModelRepository::Create({.root = testing::DigitsRepository(), .load = {}}, &metrics_);
    ASSERT_TRUE(repo.ok()) << repo.status();
    repository_ = *std::move(repo);
    core_ = std::make_unique<PredictCore>(repository_.get(), &metrics_);
  }

  // A digits request with `batch` images; pixel i of image b = ((b*64+i) % 17) / 16.
  static InferenceRequest DigitsRequest(int64_t batch, std::string input = "images") {
    InferenceRequest request;
    request.model_name = "digits";
    engine::Tensor images(engine::DType::kFloat32, {batch, 64});
    for (int64_t i = 0; i < batch * 64; ++i) {
      images.data_as<float>()[i] = static_cast<float>(i % 17) / 16.0f;
    }
    EXPECT_TRUE(request.AddInput(std::move(input), std::move(images)).ok());
    return request;
  }

  Metrics metrics_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<PredictCore> core_;
};

TEST_F(PredictCoreTest, MatchesTheEngineRunDirectly) {
  InferenceRequest request = DigitsRequest(3);
  absl::StatusOr<InferenceResponse> response = core_->Predict(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->model_name, "digits");
  EXPECT_EQ(response->version, 1);
  EXPECT_EQ(response->signature_name, "serving_default");
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "logits");
  const engine::Tensor& logits = response->outputs[0].tensor;
  ASSERT_EQ(engine::ShapeToString(logits.shape()), "[3,10]");

  absl::StatusOr<std::shared_ptr<const engine::Model>> model =
      engine::LoadModel(testing::DigitsModel());
  ASSERT_TRUE(model.ok()) << model.status();
  engine::RunContext ctx;
  absl::StatusOr<std::vector<engine::Tensor>> direct =
      (*model)->Run(ctx, {request.inputs.at("images")});
  ASSERT_TRUE(direct.ok()) << direct.status();
  for (int64_t i = 0; i < 30; ++i) {
    EXPECT_NEAR(logits.data_as<float>()[i], (*direct)[0].data_as<float>()[i], 1e-5) << i;
  }
}

TEST_F(PredictCoreTest, RunsOnAWorkerAndRejectsInvalidRequestsOnTheCallingThread) {
  // A valid request is answered by one of the servable's workers, not the caller.
  absl::Notification answered;
  std::thread::id answered_on;
  absl::StatusOr<InferenceResponse> response;
  core_->PredictAsync(DigitsRequest(2), [&](absl::StatusOr<InferenceResponse> r) {
    response = std::move(r);
    answered_on = std::this_thread::get_id();
    answered.Notify();
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(engine::ShapeToString(response->outputs[0].tensor.shape()), "[2,10]");
  EXPECT_NE(answered_on, std::this_thread::get_id());

  // An invalid one is answered before PredictAsync returns, on the calling thread.
  const std::thread::id caller = std::this_thread::get_id();
  bool rejected_inline = false;
  core_->PredictAsync(DigitsRequest(1, "image"), [&](absl::StatusOr<InferenceResponse> r) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    rejected_inline = std::this_thread::get_id() == caller;
  });
  EXPECT_TRUE(rejected_inline);
}

TEST_F(PredictCoreTest, AnExpiredDeadlineIsNotRun) {
  InferenceRequest request = DigitsRequest(1);
  request.deadline = absl::Now() - absl::Seconds(1);
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr("model 'digits' version 1"));
}

TEST_F(PredictCoreTest, UnknownModelListsServedModels) {
  InferenceRequest request = DigitsRequest(1);
  request.model_name = "mnist";
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("Model 'mnist' is not being served"));
  EXPECT_THAT(status.message(), HasSubstr("Available models: {digits}"));
}

TEST_F(PredictCoreTest, UnknownVersionListsVersions) {
  InferenceRequest request = DigitsRequest(1);
  request.version = 7;
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("version 7"));
  EXPECT_THAT(status.message(), HasSubstr("Available versions: {1}"));
}

TEST_F(PredictCoreTest, UnknownSignatureListsSignatures) {
  InferenceRequest request = DigitsRequest(1);
  request.signature_name = "classify";
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("Available signatures: {serving_default}"));
}

TEST_F(PredictCoreTest, WrongInputNameSaysExtraAndMissingInTfServingTone) {
  absl::Status status = core_->Predict(DigitsRequest(1, "image")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Sent extra: {image}. Missing but required: {images}."));
  EXPECT_THAT(status.message(), HasSubstr("Valid inputs: {images}"));

  InferenceRequest none;
  none.model_name = "digits";
  EXPECT_THAT(core_->Predict(none).status().message(),
              HasSubstr("Sent extra: {}. Missing but required: {images}."));
}

TEST_F(PredictCoreTest, WrongDtypeNamesTheExpectedDtype) {
  InferenceRequest request;
  request.model_name = "digits";
  ASSERT_TRUE(request.AddInput("images", engine::Tensor(engine::DType::kInt32, {1, 64})).ok());
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Input 'images' has dtype int32"));
  EXPECT_THAT(status.message(), HasSubstr("expects float32 with shape [?,64]"));
}

TEST_F(PredictCoreTest, WrongShapeNamesTheExpectedShape) {
  for (const engine::Shape& shape : std::vector<engine::Shape>{{1, 63}, {64}, {1, 8, 8}, {0, 64}}) {
    InferenceRequest request;
    request.model_name = "digits";
    ASSERT_TRUE(request.AddInput("images", engine::Tensor(engine::DType::kFloat32, shape)).ok());
    absl::Status status = core_->Predict(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << engine::ShapeToString(shape);
    EXPECT_THAT(status.message(),
                HasSubstr("Input 'images' has shape " + engine::ShapeToString(shape) +
                          " but signature 'serving_default' expects [?,64]"));
  }
}

TEST_F(PredictCoreTest, OutputFilterAcceptsKnownNamesOnly) {
  InferenceRequest request = DigitsRequest(1);
  request.output_names = {"logits", "logits"};
  absl::StatusOr<InferenceResponse> response = core_->Predict(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->outputs.size(), 1u);

  request.output_names = {"probabilities"};
  absl::Status status = core_->Predict(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Requested output 'probabilities'"));
  EXPECT_THAT(status.message(), HasSubstr("Valid outputs: {logits}"));
}

TEST_F(PredictCoreTest, RecordsRequestMetricsByStatus) {
  ASSERT_TRUE(core_->Predict(DigitsRequest(1)).ok());
  ASSERT_TRUE(core_->Predict(DigitsRequest(2)).ok());
  InferenceRequest kserve = DigitsRequest(1, "wrong");
  kserve.api = Api::kKServe;
  ASSERT_FALSE(core_->Predict(kserve).ok());
  InferenceRequest unknown = DigitsRequest(1);
  unknown.model_name = "who-knows";
  ASSERT_FALSE(core_->Predict(unknown).ok());

  const std::string text = prometheus::TextSerializer().Serialize(metrics_.registry().Collect());
  EXPECT_THAT(text, HasSubstr("q8serve_requests_total{api=\"tfserving\",model=\"digits\","
                              "signature=\"serving_default\",status=\"OK\",version=\"1\"} 2"));
  EXPECT_THAT(text, HasSubstr("q8serve_requests_total{api=\"kserve\",model=\"digits\","
                              "signature=\"serving_default\",status=\"INVALID_ARGUMENT\","
                              "version=\"1\"} 1"));
  // Unknown model names do not become label values.
  EXPECT_THAT(text, HasSubstr("q8serve_requests_total{api=\"tfserving\",model=\"\","
                              "signature=\"\",status=\"NOT_FOUND\",version=\"\"} 1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("who-knows")));
  // Durations of every request, failed ones too, by version.
  EXPECT_THAT(text, HasSubstr("q8serve_request_duration_seconds_count{api=\"tfserving\","
                              "model=\"digits\",version=\"1\"} 2"));
  EXPECT_THAT(text, HasSubstr("q8serve_request_duration_seconds_count{api=\"kserve\","
                              "model=\"digits\",version=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("q8serve_request_duration_seconds_count{api=\"tfserving\","
                              "model=\"\",version=\"\"} 1"));
  EXPECT_THAT(text, HasSubstr("q8serve_requests_in_flight{model=\"digits\"} 0"));
}

TEST_F(PredictCoreTest, UnknownSignatureIsCountedWithoutItsName) {
  InferenceRequest request = DigitsRequest(1);
  request.signature_name = "no-such-signature";
  EXPECT_EQ(core_->Predict(request).status().code(), absl::StatusCode::kNotFound);
  const std::string text = prometheus::TextSerializer().Serialize(metrics_.registry().Collect());
  EXPECT_THAT(text, HasSubstr("q8serve_requests_total{api=\"tfserving\",model=\"digits\","
                              "signature=\"\",status=\"NOT_FOUND\",version=\"1\"} 1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("no-such-signature")));
}

}  // namespace
}  // namespace q8::server
