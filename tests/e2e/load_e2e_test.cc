// End-to-end: many concurrent clients, no errors and no cross-talk.
//
// 64 client threads, 20 calls each (1280 calls, bounded), over 16 connections (four
// clients multiplexed on each, so HTTP/2 streams of different clients interleave on one
// connection), alternating the TF Serving and KServe APIs. Each client sends its own
// input (distinct rows and row count); every answer must equal the in-process engine's
// output for that client's input, so a response routed to the wrong call, or a run
// context shared between two runs, shows up as a mismatch.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "grpcpp/grpcpp.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

constexpr int kClients = 64;
constexpr int kCallsPerClient = 20;
constexpr int kConnections = 16;

struct ClientCase {
  int64_t rows = 0;
  std::string bytes;            // float32 [rows, 64]
  std::vector<float> expected;  // the engine's logits [rows, 10]
};

// Client c's input: 1-4 rows of pseudo-random pixels in [0, 1], different per client.
std::string ClientPixels(int c, int64_t rows) {
  std::vector<float> pixels(static_cast<size_t>(rows) * 64);
  uint32_t state = 2654435761u * static_cast<uint32_t>(c + 1);
  for (float& p : pixels) {
    state = state * 1664525u + 1013904223u;  // LCG
    p = static_cast<float>(state >> 8) / static_cast<float>(1 << 24);
  }
  return std::string(reinterpret_cast<const char*>(pixels.data()), pixels.size() * sizeof(float));
}

std::vector<float> EngineLogits(const engine::Model& model, const std::string& bytes,
                                int64_t rows) {
  engine::RunContext ctx;
  engine::TensorView view{engine::DType::kFloat32, {rows, 64}, bytes.data()};
  absl::StatusOr<std::vector<engine::Tensor>> out = model.Run(ctx, {view});
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  const float* p = (*out)[0].data_as<float>();
  return std::vector<float>(p, p + (*out)[0].num_elements());
}

bool Matches(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::abs(got[i] - want[i]) > 1e-4f * std::max(1.0f, std::abs(want[i]))) return false;
  }
  return true;
}

TEST(LoadE2eTest, SixtyFourConcurrentClientsEachGetTheirOwnAnswer) {
  absl::StatusOr<std::shared_ptr<const engine::Model>> model =
      engine::LoadModel(Repository() + "/digits/1/model.onnx");
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<ClientCase> cases(kClients);
  for (int c = 0; c < kClients; ++c) {
    cases[c].rows = 1 + c % 4;
    cases[c].bytes = ClientPixels(c, cases[c].rows);
    cases[c].expected = EngineLogits(**model, cases[c].bytes, cases[c].rows);
    ASSERT_EQ(cases[c].expected.size(), static_cast<size_t>(cases[c].rows) * 10);
  }
  // The check can only catch cross-talk if no two clients expect the same answer.
  for (int a = 0; a < kClients; ++a) {
    for (int b = a + 1; b < kClients; ++b) {
      ASSERT_FALSE(Matches(cases[a].expected, cases[b].expected)) << a << " vs " << b;
    }
  }

  ServerProcess server;
  std::string why;
  ASSERT_NE(StartServerWith(server, Repository(), {"--shutdown-delay-secs=0"}, &why), nullptr)
      << why;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kConnections; ++i) {
    channels.push_back(ConnectedChannel(server.grpc_address()));
    ASSERT_NE(channels.back(), nullptr) << "connection " << i << " not made within 10 s";
  }

  std::atomic<int> ready{0};
  std::atomic<int> ok{0};
  std::vector<std::vector<std::string>> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      const std::shared_ptr<grpc::Channel>& channel = channels[c % kConnections];
      auto tf = tensorflow::serving::PredictionService::NewStub(channel);
      auto kserve = inference::GRPCInferenceService::NewStub(channel);
      const ClientCase& mine = cases[c];
      // Start together: the most calls in flight at once.
      ++ready;
      while (ready.load() < kClients) std::this_thread::yield();
      for (int i = 0; i < kCallsPerClient; ++i) {
        grpc::Status status;
        std::vector<float> got;
        if ((c + i) % 2 == 0) {
          tensorflow::serving::PredictResponse r;
          status = tf->Predict(Context().get(), TfRequest(mine.bytes, mine.rows), &r);
          if (status.ok()) got = AsFloats(r.outputs().at("logits").tensor_content());
        } else {
          inference::ModelInferResponse r;
          status = kserve->ModelInfer(Context().get(), KServeRequest(mine.bytes, mine.rows), &r);
          if (status.ok() && r.raw_output_contents_size() == 1) {
            got = AsFloats(r.raw_output_contents(0));
          }
        }
        if (!status.ok()) {
          failures[c].push_back("call " + std::to_string(i) + ": code " +
                                std::to_string(status.error_code()) + " " + status.error_message());
        } else if (!Matches(got, mine.expected)) {
          failures[c].push_back("call " + std::to_string(i) + ": not this client's answer");
        } else {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(failures[c].empty()) << "client " << c << ": " << failures[c].front();
  }
  EXPECT_EQ(ok.load(), kClients * kCallsPerClient) << server.log();

  // The server counted each of them once.
  const std::string text = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_EQ(SumMetric(text, "q8serve_requests_total", {"status=\"OK\""}),
            kClients * kCallsPerClient);
  EXPECT_EQ(SumMetric(text, "q8serve_requests_in_flight", {"model=\"digits\""}), 0);
  channels.clear();
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

}  // namespace
}  // namespace q8::e2e
