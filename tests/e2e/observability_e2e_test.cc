// End-to-end: what the real q8serve binary reports about known traffic.
//   - /metrics: after exactly N OK and M failed calls the request counters hold exactly
//     N and M (by model, version, signature, API, status), durations count both, nothing
//     is left in flight; the process metrics describe this process.
//   - --log-format=json: every line is a JSON object; a failed call is logged at warning
//     with its request id (the client's x-request-id), model, code and message.
//   - every inference call gets x-request-id back: the client's, or a generated one.
//   - a call that fails on a model's worker (after it was queued) is logged there with its
//     request id and counted once, under its signature, with nothing left in flight.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/json.h"
#include "grpcpp/grpcpp.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::HasSubstr;

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The string member `key` of a JSON object, "" if absent.
std::string Member(const client::JsonValue& object, const std::string& key) {
  for (const auto& [k, v] : object.members) {
    if (k == key) return v.text;
  }
  return "";
}

class ObservabilityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    started_before_ = UnixNow();
    std::string why;
    channel_ = StartServerWith(server_, Repository(),
                               {"--log-format=json", "--shutdown-delay-secs=0"}, &why);
    ASSERT_NE(channel_, nullptr) << why;
    started_after_ = UnixNow();
  }
  void TearDown() override {
    channel_.reset();
    EXPECT_EQ(server_.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_.log();
  }

  grpc::Status Predict(const tensorflow::serving::PredictRequest& request,
                       const std::string& request_id, std::string* echoed) {
    auto context = Context();
    if (!request_id.empty()) context->AddMetadata("x-request-id", request_id);
    tensorflow::serving::PredictResponse response;
    grpc::Status status = tensorflow::serving::PredictionService::NewStub(channel_)->Predict(
        context.get(), request, &response);
    const auto& metadata = context->GetServerInitialMetadata();
    if (auto it = metadata.find("x-request-id"); it != metadata.end() && echoed != nullptr) {
      *echoed = std::string(it->second.data(), it->second.size());
    }
    return status;
  }

  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  double started_before_ = 0;
  double started_after_ = 0;
};

TEST_F(ObservabilityE2eTest, CountersHoldExactlyTheTrafficSent) {
  const std::string bytes = Batch4Bytes();
  constexpr int kTfOk = 5;
  constexpr int kKServeOk = 3;
  for (int i = 0; i < kTfOk; ++i) ASSERT_TRUE(Predict(TfRequest(bytes, 4), "", nullptr).ok());
  auto kserve = inference::GRPCInferenceService::NewStub(channel_);
  for (int i = 0; i < kKServeOk; ++i) {
    inference::ModelInferResponse r;
    ASSERT_TRUE(kserve->ModelInfer(Context().get(), KServeRequest(bytes, 4), &r).ok());
  }
  // Failed: a shape the signature rejects (2x); an unknown signature (1x); an unknown
  // model (1x, labelled model="").
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Predict(TfRequest(bytes.substr(0, 4 * 63 * 4), 4, 63), "", nullptr).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  tensorflow::serving::PredictRequest unknown_signature = TfRequest(bytes, 4);
  unknown_signature.mutable_model_spec()->set_signature_name("nope");
  ASSERT_EQ(Predict(unknown_signature, "", nullptr).error_code(), grpc::StatusCode::NOT_FOUND);
  tensorflow::serving::PredictRequest unknown_model = TfRequest(bytes, 4);
  unknown_model.mutable_model_spec()->set_name("mnist");
  ASSERT_EQ(Predict(unknown_model, "", nullptr).error_code(), grpc::StatusCode::NOT_FOUND);

  const std::string text = HttpGet(server_.metrics_port(), "/metrics");
  ASSERT_FALSE(text.empty());
  const std::string digits_v1 = "model=\"digits\"";
  auto requests = [&](std::vector<std::string> labels) {
    return SumMetric(text, "q8serve_requests_total", labels);
  };
  EXPECT_EQ(requests({"api=\"tfserving\"", digits_v1, "signature=\"serving_default\"",
                      "status=\"OK\"", "version=\"1\""}),
            kTfOk);
  EXPECT_EQ(requests({"api=\"kserve\"", digits_v1, "signature=\"serving_default\"", "status=\"OK\"",
                      "version=\"1\""}),
            kKServeOk);
  EXPECT_EQ(requests({"api=\"tfserving\"", digits_v1, "signature=\"serving_default\"",
                      "status=\"INVALID_ARGUMENT\"", "version=\"1\""}),
            2);
  EXPECT_EQ(requests({"api=\"tfserving\"", digits_v1, "signature=\"\"", "status=\"NOT_FOUND\"",
                      "version=\"1\""}),
            1);
  EXPECT_EQ(requests({"model=\"\"", "status=\"NOT_FOUND\""}), 1);
  EXPECT_EQ(requests({}), kTfOk + kKServeOk + 4) << "nothing else was counted";
  EXPECT_EQ(text.find("mnist"), std::string::npos);
  EXPECT_EQ(text.find("nope"), std::string::npos);

  // Durations: every request, failed ones included, by model, version and API.
  EXPECT_EQ(SumMetric(text, "q8serve_request_duration_seconds_count",
                      {"api=\"tfserving\"", digits_v1, "version=\"1\""}),
            kTfOk + 3);
  EXPECT_EQ(SumMetric(text, "q8serve_request_duration_seconds_count",
                      {"api=\"kserve\"", digits_v1, "version=\"1\""}),
            kKServeOk);
  EXPECT_EQ(SumMetric(text, "q8serve_requests_in_flight", {digits_v1}), 0);
  EXPECT_EQ(
      SumMetric(text, "q8serve_model_state", {digits_v1, "version=\"1\"", "state=\"available\""}),
      1);
  EXPECT_EQ(SumMetric(text, "q8serve_model_load_failures_total", {}), -1) << "none failed";

  // Process metrics of this very process.
  const double start = SumMetric(text, "process_start_time_seconds", {});
  EXPECT_GE(start, started_before_ - 2) << "boot time in /proc/stat has 1 s resolution";
  EXPECT_LE(start, started_after_ + 2);
  EXPECT_GT(SumMetric(text, "process_cpu_seconds_total", {}), 0);
  EXPECT_GT(SumMetric(text, "process_resident_memory_bytes", {}), 1 << 20);
  EXPECT_GE(SumMetric(text, "process_virtual_memory_bytes", {}),
            SumMetric(text, "process_resident_memory_bytes", {}));
  const double fds = SumMetric(text, "process_open_fds", {});
  EXPECT_GT(fds, 3);
  EXPECT_GE(SumMetric(text, "process_max_fds", {}), fds);
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
}

TEST_F(ObservabilityE2eTest, JsonLogsCarryTheRequestIdOfAFailedCall) {
  const std::string bytes = Batch4Bytes();
  std::string echoed;
  ASSERT_TRUE(Predict(TfRequest(bytes, 4), "client-id-42", &echoed).ok());
  EXPECT_EQ(echoed, "client-id-42");
  std::string generated_1;
  std::string generated_2;
  ASSERT_TRUE(Predict(TfRequest(bytes, 4), "", &generated_1).ok());
  ASSERT_TRUE(Predict(TfRequest(bytes, 4), "not a usable id", &generated_2).ok());
  EXPECT_THAT(generated_1, ::testing::MatchesRegex("[0-9a-f]{16}-[0-9a-f]{8}"));
  EXPECT_THAT(generated_2, ::testing::MatchesRegex("[0-9a-f]{16}-[0-9a-f]{8}"));
  EXPECT_NE(generated_1, generated_2);

  ASSERT_EQ(
      Predict(TfRequest(bytes.substr(0, 4 * 63 * 4), 4, 63), "bad-shape-7", &echoed).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(echoed, "bad-shape-7") << "failed calls get their id back too";
  inference::ModelInferRequest unknown = KServeRequest(bytes, 4);
  unknown.set_model_name("mnist");
  auto context = Context();
  context->AddMetadata("x-request-id", "kserve-9");
  inference::ModelInferResponse r;
  ASSERT_EQ(inference::GRPCInferenceService::NewStub(channel_)
                ->ModelInfer(context.get(), unknown, &r)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The failure lines are written before the reply; every line is JSON.
  std::map<std::string, client::JsonValue> failures;  // by request_id
  int lines = 0;
  bool loaded = false;
  std::istringstream log(server_.log());
  std::string line;
  while (std::getline(log, line)) {
    ++lines;
    absl::StatusOr<client::JsonValue> json = client::ParseJson(line);
    ASSERT_TRUE(json.ok()) << "not JSON: " << line << ": " << json.status();
    ASSERT_EQ(json->kind, client::JsonValue::Kind::kObject) << line;
    EXPECT_FALSE(Member(*json, "time").empty()) << line;
    EXPECT_FALSE(Member(*json, "level").empty()) << line;
    if (Member(*json, "message").find("loaded") != std::string::npos) loaded = true;
    if (Member(*json, "message") == "request failed") failures[Member(*json, "request_id")] = *json;
  }
  EXPECT_GT(lines, 3);
  EXPECT_TRUE(loaded) << "load events are still logged";
  EXPECT_EQ(failures.size(), 2u) << "only the two failed calls are logged as failures";
  ASSERT_TRUE(failures.count("bad-shape-7"));
  const client::JsonValue& bad = failures["bad-shape-7"];
  EXPECT_EQ(Member(bad, "level"), "warning");
  EXPECT_EQ(Member(bad, "api"), "tfserving");
  EXPECT_EQ(Member(bad, "model"), "digits");
  EXPECT_EQ(Member(bad, "code"), "INVALID_ARGUMENT");
  EXPECT_THAT(Member(bad, "error"), HasSubstr("expects [?,64]"));
  ASSERT_TRUE(failures.count("kserve-9"));
  EXPECT_EQ(Member(failures["kserve-9"], "api"), "kserve");
  EXPECT_EQ(Member(failures["kserve-9"], "code"), "NOT_FOUND");
  EXPECT_EQ(Member(failures["kserve-9"], "model"), "mnist");
}

// The JSON log lines of `log` whose message is "request failed", by request_id.
std::map<std::string, client::JsonValue> FailureLines(const std::string& log) {
  std::map<std::string, client::JsonValue> failures;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    absl::StatusOr<client::JsonValue> json = client::ParseJson(line);
    if (json.ok() && json->kind == client::JsonValue::Kind::kObject &&
        Member(*json, "message") == "request failed") {
      failures[Member(*json, "request_id")] = *json;
    }
  }
  return failures;
}

TEST(WorkerFailureE2eTest, ACallFailedOnTheWorkerIsLoggedWithItsRequestIdAndCountedOnce) {
  // Requests to `digits_queued` wait 1.5 s in its batch queue (the batch never fills); a
  // client deadline of 300 ms has passed when the worker takes the batch, so the worker
  // answers DEADLINE_EXCEEDED without running it.
  TempRepository repo;
  repo.AddModel("digits_queued", 1, Repository() + "/digits/1/model.onnx");
  repo.AddConfig("digits_queued",
                 "batching { max_batch_size: 64 max_queue_delay_us: 1500000 }\n"
                 "instances { workers: 1 }\n");
  ServerProcess server;
  std::string why;
  std::shared_ptr<grpc::Channel> channel =
      StartServerWith(server, repo.path(), {"--log-format=json", "--shutdown-delay-secs=0"}, &why);
  ASSERT_NE(channel, nullptr) << why;

  tensorflow::serving::PredictRequest request = TfRequest(Batch4Bytes(), 4);
  request.mutable_model_spec()->set_name("digits_queued");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  context.AddMetadata("x-request-id", "queued-late-3");
  tensorflow::serving::PredictResponse response;
  EXPECT_EQ(tensorflow::serving::PredictionService::NewStub(channel)
                ->Predict(&context, request, &response)
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);

  // The client gave up at 300 ms; the worker answers at about 1.5 s.
  std::map<std::string, client::JsonValue> failures;
  EXPECT_TRUE(WaitFor(
      [&] {
        failures = FailureLines(server.log());
        return failures.count("queued-late-3") > 0;
      },
      std::chrono::seconds(10)))
      << server.log();
  if (failures.count("queued-late-3") > 0) {
    const client::JsonValue& late = failures["queued-late-3"];
    EXPECT_EQ(Member(late, "level"), "warning");
    EXPECT_EQ(Member(late, "api"), "tfserving");
    EXPECT_EQ(Member(late, "model"), "digits_queued");
    EXPECT_EQ(Member(late, "code"), "DEADLINE_EXCEEDED");
    EXPECT_THAT(Member(late, "error"), HasSubstr("in the queue; the request was not run"));
  }
  EXPECT_EQ(failures.size(), 1u);

  const std::string text = HttpGet(server.metrics_port(), "/metrics");
  const std::string model = "model=\"digits_queued\"";
  EXPECT_EQ(SumMetric(text, "q8serve_requests_total",
                      {model, "signature=\"serving_default\"", "status=\"DEADLINE_EXCEEDED\"",
                       "version=\"1\""}),
            1);
  EXPECT_EQ(SumMetric(text, "q8serve_requests_total", {model}), 1) << "counted once";
  EXPECT_EQ(SumMetric(text, "q8serve_request_duration_seconds_count", {model}), 1);
  EXPECT_EQ(SumMetric(text, "q8serve_requests_in_flight", {model}), 0);
  EXPECT_EQ(SumMetric(text, "q8serve_queue_depth", {model}), 0);
  EXPECT_EQ(SumMetric(text, "q8serve_batch_size_count", {model}), 0) << "the model never ran";

  channel.reset();
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

TEST(QueueE2eTest, AFullQueueAnswersResourceExhaustedAtOnceAndTheQueuedOnesRun) {
  // `digits_queued` holds at most 2 waiting requests; they wait 1.5 s for a batch that never
  // fills. A third is refused on arrival, on the wire, in the counters and in the log.
  TempRepository repo;
  repo.AddModel("digits_queued", 1, Repository() + "/digits/1/model.onnx");
  repo.AddConfig("digits_queued",
                 "batching { max_batch_size: 64 max_queue_delay_us: 1500000 max_queue_size: 2 }\n"
                 "instances { workers: 1 }\n");
  ServerProcess server;
  std::string why;
  std::shared_ptr<grpc::Channel> channel =
      StartServerWith(server, repo.path(), {"--log-format=json", "--shutdown-delay-secs=0"}, &why);
  ASSERT_NE(channel, nullptr) << why;
  auto stub = tensorflow::serving::PredictionService::NewStub(channel);
  tensorflow::serving::PredictRequest request = TfRequest(Batch4Bytes(), 4);
  request.mutable_model_spec()->set_name("digits_queued");

  std::vector<grpc::StatusCode> queued(2, grpc::StatusCode::UNKNOWN);
  std::vector<std::thread> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.emplace_back([&, i] {
      auto context = Context();
      tensorflow::serving::PredictResponse response;
      queued[i] = stub->Predict(context.get(), request, &response).error_code();
    });
  }
  const std::string model = "model=\"digits_queued\"";
  EXPECT_TRUE(WaitFor(
      [&] {
        return SumMetric(HttpGet(server.metrics_port(), "/metrics"), "q8serve_queue_depth",
                         {model}) == 2;
      },
      std::chrono::seconds(5)))
      << "the two requests never both waited in the queue";

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  context.AddMetadata("x-request-id", "over-the-top-1");
  tensorflow::serving::PredictResponse response;
  const auto sent = std::chrono::steady_clock::now();
  const grpc::Status refused = stub->Predict(&context, request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("queue"));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(1000))
      << "refused at once, not after the batch delay";
  for (std::thread& t : waiting) t.join();
  EXPECT_EQ(queued[0], grpc::StatusCode::OK);
  EXPECT_EQ(queued[1], grpc::StatusCode::OK);

  const std::map<std::string, client::JsonValue> failures = FailureLines(server.log());
  ASSERT_TRUE(failures.count("over-the-top-1")) << server.log();
  EXPECT_EQ(Member(failures.at("over-the-top-1"), "code"), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(Member(failures.at("over-the-top-1"), "model"), "digits_queued");
  const std::string text = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_EQ(SumMetric(text, "q8serve_requests_total", {model, "status=\"RESOURCE_EXHAUSTED\""}), 1);
  EXPECT_EQ(SumMetric(text, "q8serve_requests_total", {model, "status=\"OK\""}), 2);
  EXPECT_EQ(SumMetric(text, "q8serve_batch_size_count", {model}), 1) << "the two ran as one batch";
  EXPECT_EQ(SumMetric(text, "q8serve_queue_depth", {model}), 0);

  stub.reset();
  channel.reset();
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

}  // namespace
}  // namespace q8::e2e
