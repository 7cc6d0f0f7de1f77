// End-to-end: graceful shutdown of the real q8serve binary.
//
// What SIGTERM promises (server/main.cc, server/server.h), checked here:
//   - health turns NOT_SERVING for "" and every service, GET /ready answers 503 and new
//     connections are refused, at once, while calls on the open connections keep being
//     served for --shutdown-delay-secs;
//   - every call sent on an open connection before the drain began succeeds, with the
//     output of its own input;
//   - a call on a new connection after the signal is refused before it starts
//     (UNAVAILABLE: the listener is closed, so no handler ever sees it);
//   - calls in flight when the drain begins run to completion (OK), including calls still
//     waiting in a model's batch queue: gRPC counts a call in flight until the worker
//     that answers it finishes it, and the process does not exit under it;
//   - the process exits 0 soon after the last call ends, even with idle client channels
//     still open (gRPC would otherwise wait for them until the grace period ends).
// The drain moment is chosen with a second SIGTERM, which cuts the delay short.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/common/test_env.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// A copy of digits whose requests wait in its batch queue for kQueueDelayUs before they
// run (the batch never fills): a call that is reliably still in flight when the drain
// begins, whatever the machine's speed. (A slow model does not do: the engine's first
// run of a new input shape times kernel candidates, which for a large MobileNet batch
// takes longer than any call deadline here.)
constexpr char kQueuedModel[] = "digits_queued";
constexpr int64_t kQueueDelayUs = 1'500'000;

void AddQueuedDigits(const TempRepository& repo) {
  repo.AddModel(kQueuedModel, 1, Repository() + "/digits/1/model.onnx");
  repo.AddConfig(kQueuedModel, absl::StrCat("batching { max_batch_size: 64 max_queue_delay_us: ",
                                            kQueueDelayUs, " }\ninstances { workers: 1 }\n"));
}

tensorflow::serving::PredictRequest QueuedRequest(const std::string& bytes, int64_t rows) {
  tensorflow::serving::PredictRequest request = TfRequest(bytes, rows);
  request.mutable_model_spec()->set_name(kQueuedModel);
  return request;
}

// Whether /metrics shows `model` with a request in flight that is still in its queue.
bool QueuedInFlight(int metrics_port, const std::string& model) {
  const std::string text = HttpGet(metrics_port, "/metrics");
  const std::string label = absl::StrCat("model=\"", model, "\"");
  return SumMetric(text, "q8serve_requests_in_flight", {label}) >= 1 &&
         SumMetric(text, "q8serve_queue_depth", {label}) >= 1;
}

// A distinct digits input per client: 2 rows of 64 pixels.
std::string ClientInput(int client) {
  std::vector<float> pixels(2 * 64);
  for (size_t i = 0; i < pixels.size(); ++i) {
    pixels[i] = static_cast<float>((i * 7 + static_cast<size_t>(client) * 13) % 17) / 16.0f;
  }
  return std::string(reinterpret_cast<const char*>(pixels.data()), pixels.size() * sizeof(float));
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
  return response.status();
}

// What a HTTP GET answered: its status line ("HTTP/1.1 503 ..."), "" if nothing.
std::string StatusLine(int port, const std::string& path) {
  const std::string response = HttpGetRaw(port, path);
  return response.substr(0, response.find("\r\n"));
}

TEST(ShutdownE2eTest, SigtermServesThroughTheDelayThenDrainsInFlightCallsAndExitsZero) {
  TempRepository repo;
  repo.AddModel("digits", 1, Repository() + "/digits/1/model.onnx");
  AddQueuedDigits(repo);
  ServerProcess server;
  std::string why;
  // A long delay and grace: the test ends the delay itself (second SIGTERM), and the
  // exit must come long before the grace would end it.
  std::shared_ptr<grpc::Channel> channel = StartServerWith(
      server, repo.path(), {"--threads=1", "--shutdown-delay-secs=60", "--shutdown-grace-secs=30"},
      &why);
  ASSERT_NE(channel, nullptr) << why;
  ASSERT_EQ(StatusLine(server.metrics_port(), "/ready"), "HTTP/1.1 200 OK");
  // Connects `channel`: health is read over it after the signal (a new connection would
  // be refused then).
  ASSERT_EQ(Health(channel, ""), grpc::health::v1::HealthCheckResponse::SERVING);

  // Fast clients: each on its own connection with its own input; the expected output is
  // a lone call's, made first.
  constexpr int kClients = 4;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::string> inputs;
  std::vector<std::string> expected;
  for (int c = 0; c < kClients; ++c) {
    channels.push_back(OwnChannel(server.grpc_address()));
    inputs.push_back(ClientInput(c));
    tensorflow::serving::PredictResponse r;
    grpc::Status s = tensorflow::serving::PredictionService::NewStub(channels[c])
                         ->Predict(Context().get(), TfRequest(inputs[c], 2), &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    expected.push_back(r.outputs().at("logits").tensor_content());
  }
  for (int c = 1; c < kClients; ++c) ASSERT_NE(expected[c], expected[0]) << "inputs must differ";

  // The slow call's connection, opened before the signal.
  std::shared_ptr<grpc::Channel> slow_channel = OwnChannel(server.grpc_address());
  ASSERT_EQ(Health(slow_channel, ""), grpc::health::v1::HealthCheckResponse::SERVING);

  std::atomic<bool> signalled{false};
  std::atomic<bool> stop{false};
  std::vector<std::map<std::string, int>> outcomes(kClients);  // "OK", "wrong output", codes
  std::vector<int> after_signal(kClients, 0);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = tensorflow::serving::PredictionService::NewStub(channels[c]);
      while (!stop.load()) {
        const bool late = signalled.load();
        tensorflow::serving::PredictResponse r;
        grpc::Status s = stub->Predict(Context().get(), TfRequest(inputs[c], 2), &r);
        if (!s.ok()) {
          ++outcomes[c][absl::StrCat("code ", s.error_code(), ": ", s.error_message())];
        } else if (r.outputs().at("logits").tensor_content() != expected[c]) {
          ++outcomes[c]["wrong output"];
        } else {
          ++outcomes[c]["OK"];
          if (late) ++after_signal[c];
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  // First SIGTERM: NOT_SERVING everywhere at once; calls still served.
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  signalled.store(true);
  EXPECT_TRUE(WaitFor(
      [&] {
        return StatusLine(server.metrics_port(), "/ready") == "HTTP/1.1 503 Service Unavailable";
      },
      std::chrono::seconds(5)))
      << server.log();
  for (const char* service : {"", "tensorflow.serving.PredictionService",
                              "inference.GRPCInferenceService", "q8serve.v1.Q8Serve"}) {
    EXPECT_EQ(Health(channel, service), grpc::health::v1::HealthCheckResponse::NOT_SERVING)
        << service;
  }
  // Refused before it starts: the listener closed at the signal.
  {
    tensorflow::serving::PredictResponse r;
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::Status s =
        tensorflow::serving::PredictionService::NewStub(OwnChannel(server.grpc_address()))
            ->Predict(context.get(), TfRequest(inputs[0], 2), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "a new connection during the delay must be refused: " << s.error_message();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the clients keep calling
  // Clients that watch health stop here (a balancer takes the replica out); their
  // channels stay open and idle.
  stop.store(true);
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(outcomes[c], (std::map<std::string, int>{{"OK", outcomes[c]["OK"]}}))
        << "client " << c << ": every call before the drain succeeds with its own output";
    EXPECT_GT(after_signal[c], 0) << "client " << c << " was served after SIGTERM too";
  }

  // A slow call the server holds when the drain begins, queued and not yet run: wait
  // until the server reports it in flight and in its queue, then end the delay with a
  // second SIGTERM.
  auto slow_stub = tensorflow::serving::PredictionService::NewStub(slow_channel);
  const tensorflow::serving::PredictRequest slow_request = QueuedRequest(inputs[0], 2);
  std::optional<grpc::Status> slow_status;
  std::string slow_logits;
  Clock::time_point slow_end;
  std::thread slow([&] {
    auto context = Context();
    tensorflow::serving::PredictResponse r;
    slow_status = slow_stub->Predict(context.get(), slow_request, &r);
    slow_end = Clock::now();
    if (slow_status->ok()) slow_logits = r.outputs().at("logits").tensor_content();
  });
  const bool queued = WaitFor([&] { return QueuedInFlight(server.metrics_port(), kQueuedModel); },
                              std::chrono::seconds(10));
  EXPECT_TRUE(queued) << "the slow call never showed in q8serve_requests_in_flight and "
                         "q8serve_queue_depth";
  const Clock::time_point drain = Clock::now();
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);

  // Still refused during the drain.
  EXPECT_TRUE(WaitFor(
      [&] {
        tensorflow::serving::PredictResponse r;
        auto context = std::make_unique<grpc::ClientContext>();
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        grpc::Status s =
            tensorflow::serving::PredictionService::NewStub(OwnChannel(server.grpc_address()))
                ->Predict(context.get(), TfRequest(inputs[0], 2), &r);
        return s.error_code() == grpc::StatusCode::UNAVAILABLE;
      },
      std::chrono::seconds(5)))
      << "a call on a new connection after the drain began must be refused with UNAVAILABLE";

  slow.join();
  ASSERT_TRUE(slow_status.has_value());
  EXPECT_TRUE(slow_status->ok()) << "the call in flight at the drain must complete: "
                                 << slow_status->error_code() << " "
                                 << slow_status->error_message();
  EXPECT_EQ(slow_logits, expected[0]) << "the queued call answers its own input";
  EXPECT_GT(slow_end, drain) << "the slow call ended before the drain; the test proved nothing";

  // Idle channels (the fast clients', `channel`) are still open: the exit must not wait
  // for the 30 s grace.
  const std::optional<int> code = server.WaitExit(std::chrono::seconds(8));
  EXPECT_EQ(code, std::optional<int>(0)) << server.log();
  EXPECT_LT(Clock::now() - drain, std::chrono::seconds(8));
  const std::string log = server.log();
  EXPECT_THAT(log, HasSubstr("received SIGTERM"));
  EXPECT_THAT(log, HasSubstr("second signal: draining now"));
}

TEST(ShutdownE2eTest, IdleOpenChannelDoesNotHoldTheExitUntilTheGracePeriod) {
  ServerProcess server;
  std::string why;
  std::shared_ptr<grpc::Channel> channel = StartServerWith(
      server, Repository(), {"--shutdown-delay-secs=1", "--shutdown-grace-secs=30"}, &why);
  ASSERT_NE(channel, nullptr) << why;
  tensorflow::serving::PredictResponse r;
  ASSERT_TRUE(tensorflow::serving::PredictionService::NewStub(channel)
                  ->Predict(Context().get(), TfRequest(Batch4Bytes(), 4), &r)
                  .ok());
  // `channel` stays open and idle. The exit comes after the 1 s delay, far before 30 s.
  const Clock::time_point start = Clock::now();
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  const std::optional<int> code = server.WaitExit(std::chrono::seconds(10));
  const auto took = Clock::now() - start;
  EXPECT_EQ(code, std::optional<int>(0)) << server.log();
  EXPECT_GE(took, std::chrono::milliseconds(900)) << "served through the delay";
  EXPECT_LT(took, std::chrono::seconds(5)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("answered 1 inference requests (1 OK)"));
}

// The grace period ends while a call still waits in its model's batch queue: gRPC
// cancels the call, but the worker still runs it, and the process must wait for that
// before it tears the models and metrics down (a worker left running under them would
// crash the exit). The exit line counts the request only once the worker has answered.
TEST(ShutdownE2eTest, AQueuedCallCancelledAtTheGraceEndIsAnsweredBeforeTheExit) {
  TempRepository repo;
  AddQueuedDigits(repo);
  ServerProcess server;
  std::string why;
  std::shared_ptr<grpc::Channel> channel = StartServerWith(
      server, repo.path(), {"--shutdown-delay-secs=0", "--shutdown-grace-secs=0"}, &why);
  ASSERT_NE(channel, nullptr) << why;
  std::optional<grpc::Status> status;
  std::thread call([&] {
    tensorflow::serving::PredictResponse r;
    status = tensorflow::serving::PredictionService::NewStub(channel)->Predict(
        Context().get(), QueuedRequest(ClientInput(0), 2), &r);
  });
  EXPECT_TRUE(WaitFor([&] { return QueuedInFlight(server.metrics_port(), kQueuedModel); },
                      std::chrono::seconds(10)))
      << "the call never showed in q8serve_queue_depth";
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  call.join();
  ASSERT_TRUE(status.has_value());
  // gRPC's cancel of every call at the end of the grace: UNAVAILABLE "Cancelling all calls".
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE)
      << "a zero grace cancels the queued call: " << status->error_message();
  EXPECT_EQ(server.WaitExit(kExitTimeout), std::optional<int>(0)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("answered 1 inference requests"));
}

TEST(ShutdownE2eTest, HealthEndpointsAnswerWhileServing) {
  ServerProcess server;
  std::string why;
  ASSERT_NE(StartServerWith(server, Repository(), {"--shutdown-delay-secs=0"}, &why), nullptr)
      << why;
  EXPECT_EQ(StatusLine(server.metrics_port(), "/ready"), "HTTP/1.1 200 OK");
  EXPECT_EQ(HttpGet(server.metrics_port(), "/ready"), "ready\n");
  EXPECT_EQ(HttpGet(server.metrics_port(), "/live"), "live\n");
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

}  // namespace
}  // namespace q8::e2e
