// The product promise for TensorFlow graphs, end to end: version 1 of a model is a float
// frozen GraphDef, version 2 the same network after TF's quantize_graph (QuantizeV2,
// QuantizedConv2D, QuantizedBiasAdd, QuantizedRelu, Requantize, QuantizedMaxPool,
// QuantizedMatMul, Dequantize; the logits tensor renamed "logits_eightbit_dequantize:0").
// A TF Serving client written against version 1 ("input:0" in, "logits:0" and
// "pool_features:0" out) keeps working unchanged on version 2: the importer records that
// the renamed Dequantize stands for "logits:0" and the signature layer binds it by the
// original_name rule. The same swap is served for the Intel fused-op version and the QAT
// (FakeQuant) version of the network (models cnn_intel, cnn_qat), and a SavedModel is
// served under its signature_def keys ("images" → "logits", "pixels" → "embedding").
// Numbers are checked against the numpy reference of tests/fixtures/graphdef (not
// against the engine).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "q8serve/v1/q8serve.grpc.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

namespace fs = std::filesystem;

std::string Fixtures() { return q8::testing::SourceDir() + "/tests/fixtures/graphdef"; }

client::HostTensor Npy(const std::string& file) {
  auto t = client::ReadNpyFile(q8::testing::RequireFile(Fixtures() + "/" + file));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : client::HostTensor{};
}

// The tolerance the generator recorded for a fixture case (manifest.txt, field 3), or for
// one of its outputs ("out=<tensor>=<file>=<tolerance>") when it gives one.
double Tolerance(const std::string& case_name, const std::string& output = "") {
  std::ifstream in(Fixtures() + "/manifest.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    double t = 0;
    if (f.size() < 3 || f[0] != case_name || !absl::SimpleAtod(f[2], &t)) continue;
    for (const std::string& field : f) {
      std::vector<std::string> kv = absl::StrSplit(field, '=');
      double own = 0;
      if (kv.size() == 4 && kv[0] == "out" && kv[1] == output && absl::SimpleAtod(kv[3], &own)) {
        return own;
      }
    }
    return t;
  }
  ADD_FAILURE() << "no case " << case_name;
  return 0;
}

float MaxDiff(const std::vector<float>& a, const std::string& want_bytes) {
  std::vector<float> b = AsFloats(want_bytes);
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

class GraphDefE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new std::string(
        (fs::temp_directory_path() / ("q8serve-graphdef-e2e-" + std::to_string(getpid())))
            .string());
    // Version 1 float, version 2 the quantized form; both serve (the default policy is
    // latest 1), so one test can ask each.
    for (const auto& [model, v2] : {std::pair<std::string, std::string>{"cnn", "quantize_graph.pb"},
                                    {"cnn_intel", "intel_fused.pb"},
                                    {"cnn_qat", "qat.pb"}}) {
      fs::create_directories(*repo_ + "/" + model + "/1");
      fs::create_directories(*repo_ + "/" + model + "/2");
      fs::copy_file(q8::testing::RequireFile(Fixtures() + "/float.pb"),
                    *repo_ + "/" + model + "/1/model.pb");
      fs::copy_file(q8::testing::RequireFile(Fixtures() + "/" + v2),
                    *repo_ + "/" + model + "/2/model.pb");
      std::ofstream(*repo_ + "/" + model + "/config.pbtxt") << "version_policy { all {} }\n";
    }
    fs::create_directories(*repo_ + "/tfsm/1");
    fs::copy_file(q8::testing::RequireFile(Fixtures() + "/saved_model/saved_model.pb"),
                  *repo_ + "/tfsm/1/saved_model.pb");
    server_ = new ServerProcess();
    std::string why;
    std::shared_ptr<grpc::Channel> channel = StartLoopbackServer(*server_, *repo_, &why);
    ASSERT_NE(channel, nullptr) << why;
    channel_ = new std::shared_ptr<grpc::Channel>(std::move(channel));
  }

  static void TearDownTestSuite() {
    delete channel_;
    channel_ = nullptr;
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_->log();
    }
    delete server_;
    std::error_code ec;
    fs::remove_all(*repo_, ec);
    delete repo_;
  }

  void SetUp() override { ASSERT_NE(channel_, nullptr) << "server did not start"; }

  // Predict with the float client's names; the outputs by logical name.
  static std::map<std::string, std::vector<float>> Predict(
      std::optional<int64_t> version, int64_t* served, const std::string& model = "cnn",
      const std::string& input_file = "float.input_0.npy", const std::string& input = "input:0",
      const std::string& signature = "") {
    const client::HostTensor x = Npy(input_file);
    tensorflow::serving::PredictRequest request;
    request.mutable_model_spec()->set_name(model);
    if (!signature.empty()) request.mutable_model_spec()->set_signature_name(signature);
    if (version) request.mutable_model_spec()->mutable_version()->set_value(*version);
    tensorflow::TensorProto& in = (*request.mutable_inputs())[input];
    in.set_dtype(tensorflow::DT_FLOAT);
    for (int64_t d : x.shape) in.mutable_tensor_shape()->add_dim()->set_size(d);
    in.set_tensor_content(x.data);
    tensorflow::serving::PredictResponse response;
    grpc::Status status = tensorflow::serving::PredictionService::NewStub(*channel_)->Predict(
        Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << server_->log();
    *served = response.model_spec().version().value();
    std::map<std::string, std::vector<float>> out;
    for (const auto& [name, t] : response.outputs()) {
      EXPECT_EQ(t.dtype(), tensorflow::DT_FLOAT) << name;
      out[name] = AsFloats(t.tensor_content());
    }
    return out;
  }

  static std::string* repo_;
  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* GraphDefE2eTest::repo_ = nullptr;
ServerProcess* GraphDefE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* GraphDefE2eTest::channel_ = nullptr;

TEST_F(GraphDefE2eTest, FloatClientKeepsWorkingOnTheQuantizedRenamedVersion) {
  int64_t served = 0;
  auto v2 = Predict(std::nullopt, &served);
  EXPECT_EQ(served, 2) << "latest is the quantize_graph version";
  ASSERT_EQ(v2.count("logits:0"), 1u);
  ASSERT_EQ(v2.count("pool_features:0"), 1u);
  EXPECT_LE(MaxDiff(v2["logits:0"], Npy("quantize_graph.logits_eightbit_dequantize_0.npy").data),
            Tolerance("quantize_graph"));
  EXPECT_LE(MaxDiff(v2["pool_features:0"], Npy("quantize_graph.pool_features_0.npy").data),
            Tolerance("quantize_graph"));

  auto v1 = Predict(1, &served);
  EXPECT_EQ(served, 1);
  EXPECT_LE(MaxDiff(v1["logits:0"], Npy("float.logits_0.npy").data), Tolerance("float"));
  EXPECT_LE(MaxDiff(v1["pool_features:0"], Npy("float.pool_features_0.npy").data),
            Tolerance("float"));
}

TEST_F(GraphDefE2eTest, SignatureBindsTheRenamedLogitsByOriginalName) {
  q8serve::v1::GetSignatureRequest request;
  request.set_model_name("cnn");
  q8serve::v1::GetSignatureResponse response;
  ASSERT_TRUE(q8serve::v1::Q8Serve::NewStub(*channel_)
                  ->GetSignature(Context().get(), request, &response)
                  .ok());
  EXPECT_EQ(response.version(), 2);
  std::map<std::string, q8serve::v1::TensorBinding> outputs;
  for (const auto& b : response.outputs()) outputs[b.logical_name()] = b;
  ASSERT_EQ(outputs.count("logits:0"), 1u);
  EXPECT_EQ(outputs["logits:0"].tensor_name(), "logits_eightbit_dequantize:0");
  EXPECT_EQ(outputs["logits:0"].rule(), "original_name");
  EXPECT_THAT(outputs["logits:0"].explanation(), ::testing::HasSubstr("stands for 'logits:0'"));
  EXPECT_EQ(outputs["pool_features:0"].rule(), "exact");
}

// The same swap for the Intel fused-op and the QAT versions: same logical names, the
// quantized outputs within 1 unit of their int8 quantization (tolerances from the
// generator's manifest, per output where it gives one).
TEST_F(GraphDefE2eTest, FloatClientKeepsWorkingOnTheIntelFusedAndQatVersions) {
  struct Swap {
    const char* model;
    const char* fixture;
    const char* input;
  };
  for (const Swap& sw : {Swap{"cnn_intel", "intel_fused", "intel_fused.input_0.npy"},
                         Swap{"cnn_qat", "qat", "qat.input_0.npy"}}) {
    SCOPED_TRACE(sw.model);
    int64_t served = 0;
    auto v2 = Predict(std::nullopt, &served, sw.model, sw.input);
    EXPECT_EQ(served, 2);
    ASSERT_EQ(v2.count("logits:0"), 1u);
    ASSERT_EQ(v2.count("pool_features:0"), 1u);
    const std::string fixture = sw.fixture;
    EXPECT_LE(MaxDiff(v2["logits:0"], Npy(fixture + ".logits_0.npy").data),
              Tolerance(fixture, "logits:0"));
    EXPECT_LE(MaxDiff(v2["pool_features:0"], Npy(fixture + ".pool_features_0.npy").data),
              Tolerance(fixture, "pool_features:0"));
    auto v1 = Predict(1, &served, sw.model);
    EXPECT_EQ(served, 1);
    EXPECT_LE(MaxDiff(v1["logits:0"], Npy("float.logits_0.npy").data), Tolerance("float"));
  }
}

// A SavedModel's signature_defs are the signatures clients use: their keys in and out,
// serving_default by default, any other by name.
TEST_F(GraphDefE2eTest, SavedModelClientUsesTheSignatureDefKeys) {
  int64_t served = 0;
  auto out = Predict(std::nullopt, &served, "tfsm", "float.input_0.npy", "images");
  EXPECT_EQ(served, 1);
  ASSERT_EQ(out.size(), 1u) << "serving_default has one output";
  ASSERT_EQ(out.count("logits"), 1u);
  EXPECT_LE(MaxDiff(out["logits"], Npy("quantize_graph.logits_eightbit_dequantize_0.npy").data),
            Tolerance("quantize_graph"));

  auto features = Predict(std::nullopt, &served, "tfsm", "float.input_0.npy", "pixels", "features");
  ASSERT_EQ(features.size(), 1u);
  ASSERT_EQ(features.count("embedding"), 1u);
  EXPECT_LE(MaxDiff(features["embedding"], Npy("quantize_graph.pool_features_0.npy").data),
            Tolerance("quantize_graph"));

  for (const char* name : {"", "features"}) {
    q8serve::v1::GetSignatureRequest request;
    request.set_model_name("tfsm");
    request.set_signature_name(name);
    q8serve::v1::GetSignatureResponse response;
    ASSERT_TRUE(q8serve::v1::Q8Serve::NewStub(*channel_)
                    ->GetSignature(Context().get(), request, &response)
                    .ok());
    ASSERT_EQ(response.inputs_size(), 1);
    ASSERT_EQ(response.outputs_size(), 1);
    const bool serving = std::string(name).empty();
    EXPECT_EQ(response.signature_name(), serving ? "serving_default" : "features");
    EXPECT_EQ(response.inputs(0).logical_name(), serving ? "images" : "pixels");
    EXPECT_EQ(response.inputs(0).tensor_name(), "input:0");
    EXPECT_EQ(response.outputs(0).logical_name(), serving ? "logits" : "embedding");
    EXPECT_EQ(response.outputs(0).tensor_name(),
              serving ? "logits_eightbit_dequantize:0" : "pool_features:0");
    EXPECT_EQ(response.outputs(0).source(), "model metadata");
  }
}

}  // namespace
}  // namespace q8::e2e
