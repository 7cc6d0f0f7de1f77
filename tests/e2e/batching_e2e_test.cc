// Dynamic batching on the real q8serve binary (127.0.0.1, port 0), with the digits model
// served twice from one temporary repository:
//   digits/            batching { max_batch_size: 16 max_queue_delay_us: 20000 }, 1 worker
//   digits_unbatched/  the same file, no config: every request runs alone
// Many concurrent clients send distinct inputs of 1, 2 and 3 rows over both wire APIs to
// `digits`; every response must equal what `digits_unbatched` answers for that client's
// own input, and /metrics must show fewer model runs than requests (requests were
// joined) with every row run exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kClients = 32;
constexpr int kRequestsPerClient = 6;
constexpr int kMaxBatchSize = 16;

std::string DigitsModel() {
  return q8::testing::RequireFile(q8::testing::SourceDir() + "/deploy/models/digits/1/model.onnx");
}

// The value of the sample `name{labels} value` in Prometheus text, or -1.
double Sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;
    const size_t end = text.find('\n', at);
    double value = 0;
    if (absl::SimpleAtod(text.substr(at + prefix.size(), end - at - prefix.size()), &value)) {
      return value;
    }
  }
  return -1;
}

// One request a client sent and what the batching model answered.
struct Exchange {
  int64_t rows = 0;
  std::string input;  // float32 [rows,64], raw bytes
  bool kserve = false;
  grpc::Status status;
  std::vector<float> logits;  // [rows,10]
};

class BatchingE2eTest : public ::testing::Test {
 protected:
  // One server for the suite (each test reads metrics as differences).
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "q8serve-batching-e2e-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    repo_ = new std::string(pattern);
    for (const char* model : {"digits", "digits_unbatched"}) {
      fs::create_directories(fs::path(*repo_) / model / "1");
      fs::copy_file(DigitsModel(), fs::path(*repo_) / model / "1" / "model.onnx");
    }
    std::ofstream(fs::path(*repo_) / "digits" / "config.pbtxt")
        << "batching { max_batch_size: " << kMaxBatchSize << " max_queue_delay_us: 20000 }\n"
        << "instances { workers: 1 }\n";
    server_ = new ServerProcess();
    std::string why;
    channel_ = new std::shared_ptr<grpc::Channel>(StartLoopbackServer(*server_, *repo_, &why));
    ASSERT_NE(*channel_, nullptr) << why;
  }
  static void TearDownTestSuite() {
    delete channel_;  // no open connection for the shutdown to wait for
    channel_ = nullptr;
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_->log();
      delete server_;
    }
    if (repo_ != nullptr) {
      std::error_code ec;
      fs::remove_all(*repo_, ec);
      delete repo_;
    }
  }
  void SetUp() override {
    if (channel_ == nullptr || *channel_ == nullptr) GTEST_SKIP() << "no server";
  }

  // `rows` random digit images in [0, 1], unique to `seed`.
  static std::string RandomImages(int64_t rows, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    std::vector<float> values(rows * 64);
    for (float& v : values) v = pixel(random);
    return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }

  static void Send(Exchange& e, const std::string& model) {
    if (e.kserve) {
      auto stub = inference::GRPCInferenceService::NewStub(*channel_);
      inference::ModelInferRequest request = KServeRequest(e.input, e.rows);
      request.set_model_name(model);
      inference::ModelInferResponse response;
      e.status = stub->ModelInfer(Context().get(), request, &response);
      if (e.status.ok() && response.raw_output_contents_size() == 1) {
        e.logits = AsFloats(response.raw_output_contents(0));
      }
      return;
    }
    auto stub = tensorflow::serving::PredictionService::NewStub(*channel_);
    tensorflow::serving::PredictRequest request = TfRequest(e.input, e.rows);
    request.mutable_model_spec()->set_name(model);
    tensorflow::serving::PredictResponse response;
    e.status = stub->Predict(Context().get(), request, &response);
    if (e.status.ok() && response.outputs().count("logits")) {
      e.logits = AsFloats(response.outputs().at("logits").tensor_content());
    }
  }

  static std::string Metrics() { return HttpGet(server_->metrics_port(), "/metrics"); }

  static std::string* repo_;
  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* BatchingE2eTest::repo_ = nullptr;
ServerProcess* BatchingE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* BatchingE2eTest::channel_ = nullptr;

TEST_F(BatchingE2eTest, ConcurrentClientsEachGetTheUnbatchedResultForTheirOwnRows) {
  std::vector<std::vector<Exchange>> sent(kClients, std::vector<Exchange>(kRequestsPerClient));
  int64_t total_rows = 0;
  for (int c = 0; c < kClients; ++c) {
    for (int k = 0; k < kRequestsPerClient; ++k) {
      Exchange& e = sent[c][k];
      e.rows = 1 + (c + k) % 3;
      e.input = RandomImages(e.rows, static_cast<uint32_t>(c * 1000 + k));
      e.kserve = (c + k) % 2 == 1;
      total_rows += e.rows;
    }
  }
  const std::string labels = "{model=\"digits\",version=\"1\"}";
  const std::string unbatched = "{model=\"digits_unbatched\",version=\"1\"}";
  const std::string before = Metrics();
  auto delta = [&](const std::string& after, const std::string& series) {
    return Sample(after, series) - std::max(0.0, Sample(before, series));
  };

  // All clients start together, each sending its requests back to back.
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      ready.fetch_add(1);
      while (ready.load() < kClients) std::this_thread::yield();
      for (Exchange& e : sent[c]) Send(e, "digits");
    });
  }
  for (std::thread& t : clients) t.join();

  int compared = 0;
  for (int c = 0; c < kClients; ++c) {
    for (int k = 0; k < kRequestsPerClient; ++k) {
      const Exchange& batched = sent[c][k];
      ASSERT_TRUE(batched.status.ok())
          << "client " << c << " request " << k << ": " << batched.status.error_message();
      ASSERT_EQ(batched.logits.size(), static_cast<size_t>(batched.rows * 10)) << c << "/" << k;
      // The same input, alone, on the model without batching.
      Exchange alone = batched;
      alone.logits.clear();
      Send(alone, "digits_unbatched");
      ASSERT_TRUE(alone.status.ok()) << alone.status.error_message();
      ASSERT_EQ(alone.logits.size(), batched.logits.size());
      for (size_t i = 0; i < alone.logits.size(); ++i) {
        // Another client's rows would differ by far more (random images, logits of a
        // few units); the tolerance only allows for kernels chosen per batch size.
        ASSERT_NEAR(batched.logits[i], alone.logits[i], 1e-4)
            << "client " << c << " request " << k << " value " << i;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, kClients * kRequestsPerClient);

  const std::string metrics = Metrics();
  const double requests = kClients * kRequestsPerClient;
  const double runs = delta(metrics, "q8serve_batch_size_count" + labels);
  // Every row ran exactly once, in fewer model runs than there were requests: some
  // requests shared a run. Each run stayed within max_batch_size.
  EXPECT_EQ(delta(metrics, "q8serve_batch_size_sum" + labels), static_cast<double>(total_rows))
      << metrics;
  EXPECT_GT(runs, 0) << metrics;
  EXPECT_LT(runs, requests) << metrics;
  EXPECT_EQ(delta(metrics, "q8serve_batch_size_bucket{model=\"digits\",version=\"1\",le=\"16\"}"),
            runs);
  EXPECT_EQ(delta(metrics, "q8serve_queue_duration_seconds_count" + labels), requests);
  EXPECT_EQ(delta(metrics, "q8serve_compute_duration_seconds_count" + labels), runs);
  EXPECT_EQ(Sample(metrics, "q8serve_queue_depth" + labels), 0);
  // The unbatched model ran each of its requests (the comparison ones) alone.
  EXPECT_EQ(delta(metrics, "q8serve_batch_size_count" + unbatched), requests);
}

// Plans for every batch size batching can form are made at load, before the version serves:
// its first requests do not pay for them.
TEST_F(BatchingE2eTest, EachVersionIsWarmedUpAtEveryBatchSizeItCanRun) {
  EXPECT_THAT(server_->log(), HasSubstr("model digits version 1: warmed up (batch 1 to 16)"));
  EXPECT_THAT(server_->log(), HasSubstr("model digits_unbatched version 1: warmed up (batch 1)"));
}

TEST_F(BatchingE2eTest, ARequestLargerThanMaxBatchSizeIsRejected) {
  Exchange big;
  big.rows = kMaxBatchSize + 1;
  big.input = RandomImages(big.rows, 7);
  for (bool kserve : {false, true}) {
    big.kserve = kserve;
    Send(big, "digits");
    EXPECT_EQ(big.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(big.status.error_message(),
                AllOf(HasSubstr("model 'digits' version 1"), HasSubstr("17 rows"),
                      HasSubstr("max_batch_size 16")));
  }
  // The same rows are fine where batching is off.
  Send(big, "digits_unbatched");
  EXPECT_TRUE(big.status.ok()) << big.status.error_message();
}

}  // namespace
}  // namespace q8::e2e
