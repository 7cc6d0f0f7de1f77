// End-to-end: connection and message limits of the real q8serve binary.
//   --max-message-bytes: an oversize Predict / ModelInfer request is refused with
//     RESOURCE_EXHAUSTED naming its size, the limit and the flag; gRPC's own cap (twice
//     the flag) still refuses absurd messages before they are parsed.
//   --grpc-max-connection-age-secs: the server closes even an idle connection after
//     about that long (GOAWAY), and calls keep working on a new one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::HasSubstr;

constexpr int kLimit = 1 << 20;  // 1 MiB

// `rows` digits images (64 float32 each): rows * 256 bytes of tensor data.
std::string Pixels(int64_t rows) { return std::string(static_cast<size_t>(rows) * 64 * 4, '\0'); }

class MessageLimitE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    channel_ = StartServerWith(
        server_, Repository(),
        {"--max-message-bytes=" + std::to_string(kLimit), "--shutdown-delay-secs=0"}, &why);
    ASSERT_NE(channel_, nullptr) << why;
  }
  void TearDown() override {
    channel_.reset();
    EXPECT_EQ(server_.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_.log();
  }

  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(MessageLimitE2eTest, OversizeRequestsGetResourceExhaustedNamingTheLimitAndTheFlag) {
  auto tf = tensorflow::serving::PredictionService::NewStub(channel_);
  tensorflow::serving::PredictResponse response;
  // 3000 rows: 768 kB, under the limit.
  grpc::Status status = tf->Predict(Context().get(), TfRequest(Pixels(3000), 3000), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // 5000 rows: 1.28 MB, over 1 MiB but under gRPC's 2 MiB cap: our message.
  const tensorflow::serving::PredictRequest big = TfRequest(Pixels(5000), 5000);
  status = tf->Predict(Context().get(), big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("Predict request is ", big.ByteSizeLong(),
                                     " bytes, over this server's limit of 1048576 bytes "
                                     "(--max-message-bytes)")));

  auto kserve = inference::GRPCInferenceService::NewStub(channel_);
  inference::ModelInferResponse infer;
  status = kserve->ModelInfer(Context().get(), KServeRequest(Pixels(5000), 5000), &infer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("ModelInfer request is "));
  EXPECT_THAT(status.error_message(), HasSubstr("limit of 1048576 bytes (--max-message-bytes)"));

  // 12000 rows: 3 MB, over gRPC's cap: refused by gRPC before parsing, also
  // RESOURCE_EXHAUSTED.
  status = tf->Predict(Context().get(), TfRequest(Pixels(12000), 12000), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();

  // Still serving.
  EXPECT_TRUE(tf->Predict(Context().get(), TfRequest(Batch4Bytes(), 4), &response).ok());
}

// Whether the connection of a READY `channel` is closed by the server within `within`.
bool ConnectionClosedWithin(const std::shared_ptr<grpc::Channel>& channel,
                            std::chrono::milliseconds within) {
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  return channel->WaitForStateChange(GRPC_CHANNEL_READY, std::chrono::system_clock::now() + within);
}

TEST(ConnectionAgeE2eTest, IdleConnectionsAreRecycledAfterTheMaxAgeAndCallsContinue) {
  ServerProcess aged;
  std::string why;
  std::shared_ptr<grpc::Channel> channel =
      StartServerWith(aged, Repository(),
                      {"--grpc-max-connection-age-secs=1", "--grpc-max-connection-age-grace-secs=1",
                       "--shutdown-delay-secs=0"},
                      &why);
  ASSERT_NE(channel, nullptr) << why;
  auto stub = tensorflow::serving::PredictionService::NewStub(channel);
  const std::string bytes = Batch4Bytes();
  tensorflow::serving::PredictResponse response;
  ASSERT_TRUE(stub->Predict(Context().get(), TfRequest(bytes, 4), &response).ok());
  // Age 1 s (+-10 % jitter); the GOAWAY moves the channel out of READY.
  EXPECT_TRUE(ConnectionClosedWithin(channel, std::chrono::seconds(3)));
  // The client reconnects by itself.
  grpc::Status status = stub->Predict(Context().get(), TfRequest(bytes, 4), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  channel.reset();
  EXPECT_EQ(aged.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << aged.log();

  // Without the flag the same idle connection stays open: the check above can fail.
  ServerProcess plain;
  channel = StartServerWith(plain, Repository(), {"--shutdown-delay-secs=0"}, &why);
  ASSERT_NE(channel, nullptr) << why;
  stub = tensorflow::serving::PredictionService::NewStub(channel);
  ASSERT_TRUE(stub->Predict(Context().get(), TfRequest(bytes, 4), &response).ok());
  EXPECT_FALSE(ConnectionClosedWithin(channel, std::chrono::seconds(3)));
  channel.reset();
  EXPECT_EQ(plain.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << plain.log();
}

}  // namespace
}  // namespace q8::e2e
