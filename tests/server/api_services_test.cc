// The gRPC services' handler bodies, in process (no sockets): wire messages in, wire
// messages out, on the real digits model. The end-to-end test covers the transport.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "prometheus/text_serializer.h"
#include "server/api/kserve_service.h"
#include "server/api/q8serve_service.h"
#include "server/api/tf_serving_service.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ApiServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
        ModelRepository::Create({.root = testing::DigitsRepository(), .load = {}}, &metrics_);
    ASSERT_TRUE(repo.ok()) << repo.status();
    repository_ = *std::move(repo);
    core_ = std::make_unique<PredictCore>(repository_.get(), &metrics_);
    for (int i = 0; i < 2 * 64; ++i) pixels_.push_back(static_cast<float>(i % 16) / 16.0f);
  }

  tensorflow::serving::PredictRequest TfRequest() const {
    tensorflow::serving::PredictRequest request;
    request.mutable_model_spec()->set_name("digits");
    tensorflow::TensorProto& images = (*request.mutable_inputs())["images"];
    images.set_dtype(tensorflow::DT_FLOAT);
    images.mutable_tensor_shape()->add_dim()->set_size(2);
    images.mutable_tensor_shape()->add_dim()->set_size(64);
    for (float v : pixels_) images.add_float_val(v);
    return request;
  }

  Metrics metrics_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<PredictCore> core_;
  std::vector<float> pixels_;
};

TEST_F(ApiServicesTest, TfPredictAndKServeInferGiveIdenticalLogits) {
  TfServingService tf(core_.get());
  tensorflow::serving::PredictResponse tf_response;
  ASSERT_TRUE(tf.DoPredict(TfRequest(), &tf_response).ok());
  ASSERT_TRUE(tf_response.outputs().contains("logits"));
  const tensorflow::TensorProto& logits = tf_response.outputs().at("logits");
  EXPECT_EQ(logits.dtype(), tensorflow::DT_FLOAT);
  EXPECT_EQ(logits.tensor_content().size(), 2u * 10 * sizeof(float));
  EXPECT_EQ(tf_response.model_spec().version().value(), 1);
  EXPECT_EQ(tf_response.model_spec().signature_name(), "serving_default");

  KServeService kserve(core_.get(), "test");
  inference::ModelInferRequest request;
  request.set_model_name("digits");
  request.set_id("req-7");
  auto* input = request.add_inputs();
  input->set_name("images");
  input->set_datatype("FP32");
  input->add_shape(2);
  input->add_shape(64);
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(pixels_.data()), pixels_.size() * 4));
  inference::ModelInferResponse response;
  absl::Status status = kserve.DoModelInfer(request, &response);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(response.id(), "req-7");
  EXPECT_EQ(response.model_version(), "1");
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "logits");
  EXPECT_EQ(response.outputs(0).datatype(), "FP32");
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(2, 10));
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_EQ(response.raw_output_contents(0), logits.tensor_content());
}

TEST_F(ApiServicesTest, TfDecodeErrorsReachTheClientAndTheMetrics) {
  TfServingService tf(core_.get());
  tensorflow::serving::PredictRequest request = TfRequest();
  (*request.mutable_inputs())["images"].add_float_val(1);  // 129 values for 128
  tensorflow::serving::PredictResponse response;
  absl::Status status = tf.DoPredict(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("float_val has 129 values; expected 128"));

  // Rejected by the codec, before PredictCore: still counted, without a version.
  EXPECT_THAT(prometheus::TextSerializer().Serialize(metrics_.registry().Collect()),
              HasSubstr("q8serve_requests_total{api=\"tfserving\",model=\"digits\","
                        "signature=\"\",status=\"INVALID_ARGUMENT\",version=\"\"} 1"));

  request.mutable_model_spec()->set_version_label("stable");
  EXPECT_THAT(tf.DoPredict(request, &response).message(), HasSubstr("version_label"));
}

TEST_F(ApiServicesTest, GetModelMetadataReturnsSignatureDefMap) {
  TfServingService tf(core_.get());
  tensorflow::serving::GetModelMetadataRequest request;
  request.mutable_model_spec()->set_name("digits");
  request.add_metadata_field("signature_def");
  tensorflow::serving::GetModelMetadataResponse response;
  ASSERT_TRUE(tf.DoGetModelMetadata(request, &response).ok());
  EXPECT_EQ(response.model_spec().version().value(), 1);
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(response.metadata().at("signature_def").UnpackTo(&map));
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  const tensorflow::TensorInfo& images = def.inputs().at("images");
  EXPECT_EQ(images.name(), "images");
  EXPECT_EQ(images.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(images.tensor_shape().dim_size(), 2);
  EXPECT_EQ(images.tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(images.tensor_shape().dim(1).size(), 64);
  EXPECT_TRUE(def.outputs().contains("logits"));

  request.set_metadata_field(0, "graph");
  absl::Status status = tf.DoGetModelMetadata(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'graph' is not supported; supported: signature_def"));
}

TEST_F(ApiServicesTest, KServeMetadataAndReadiness) {
  KServeService kserve(core_.get(), "test");
  inference::ModelMetadataRequest request;
  request.set_name("digits");
  inference::ModelMetadataResponse response;
  ASSERT_TRUE(kserve.DoModelMetadata(request, &response).ok());
  EXPECT_EQ(response.platform(), "onnx_int8");
  EXPECT_THAT(response.versions(), ElementsAre("1"));
  ASSERT_EQ(response.inputs_size(), 1);
  EXPECT_EQ(response.inputs(0).name(), "images");
  EXPECT_EQ(response.inputs(0).datatype(), "FP32");
  EXPECT_THAT(response.inputs(0).shape(), ElementsAre(-1, 64));

  inference::ModelReadyRequest ready;
  inference::ModelReadyResponse answer;
  ready.set_name("digits");
  ASSERT_TRUE(kserve.DoModelReady(ready, &answer).ok());
  EXPECT_TRUE(answer.ready());
  ready.set_version("2");
  ASSERT_TRUE(kserve.DoModelReady(ready, &answer).ok());
  EXPECT_FALSE(answer.ready());
  ready.set_version("two");
  EXPECT_EQ(kserve.DoModelReady(ready, &answer).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ApiServicesTest, KServeTypedContentsAndBadRawCount) {
  KServeService kserve(core_.get(), "test");
  inference::ModelInferRequest request;
  request.set_model_name("digits");
  auto* input = request.add_inputs();
  input->set_name("images");
  input->set_datatype("FP32");
  input->add_shape(2);
  input->add_shape(64);
  for (float v : pixels_) input->mutable_contents()->add_fp32_contents(v);
  request.add_outputs()->set_name("logits");
  inference::ModelInferResponse response;
  ASSERT_TRUE(kserve.DoModelInfer(request, &response).ok());
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_EQ(response.raw_output_contents(0).size(), 80u);

  request.add_raw_input_contents("x");
  request.add_raw_input_contents("y");
  absl::Status status = kserve.DoModelInfer(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("raw_input_contents has 2 entries for 1 inputs"));
}

TEST_F(ApiServicesTest, GetSignatureExplainsBindings) {
  Q8ServeService q8(repository_.get());
  q8serve::v1::GetSignatureRequest request;
  request.set_model_name("digits");
  q8serve::v1::GetSignatureResponse response;
  ASSERT_TRUE(q8.DoGetSignature(request, &response).ok());
  EXPECT_EQ(response.version(), 1);
  EXPECT_EQ(response.signature_name(), "serving_default");
  ASSERT_EQ(response.inputs_size(), 1);
  const q8serve::v1::TensorBinding& images = response.inputs(0);
  EXPECT_EQ(images.logical_name(), "images");
  EXPECT_EQ(images.tensor_name(), "images");
  EXPECT_EQ(images.dtype(), "float32");
  EXPECT_THAT(images.shape(), ElementsAre(-1, 64));
  EXPECT_EQ(images.rule(), "graph_input");
  EXPECT_EQ(images.explanation(), "graph input #0 of model.onnx under its own name");
  EXPECT_EQ(images.source(), "graph");
  EXPECT_EQ(images.conversion(), "") << "the client uses the tensor's own dtype";
  EXPECT_EQ(images.tensor_dtype(), "float32");
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).rule(), "graph_output");

  request.set_signature_name("nope");
  EXPECT_EQ(q8.DoGetSignature(request, &response).code(), absl::StatusCode::kNotFound);
  request.set_model_name("nope");
  EXPECT_THAT(q8.DoGetSignature(request, &response).message(), HasSubstr("{digits}"));
}

}  // namespace
}  // namespace q8::server
