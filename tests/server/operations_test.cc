// Unit tests of the serving layer's operations pieces: log formats, request ids, the
// message size check, process metrics and the metrics port's HTTP endpoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/api/message_limit.h"
#include "server/api/request_id.h"
#include "server/grpc_listener.h"
#include "server/logging.h"
#include "server/metrics/http_endpoint.h"
#include "server/metrics/process_metrics.h"
#include "tensorflow_serving/apis/predict.pb.h"
#include "tests/e2e/server_process.h"

namespace q8::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

TEST(LoggingTest, JsonLinesCarryTimeLevelMessageAndEscapedFields) {
  const std::string line =
      FormatForTest("json", spdlog::level::warn, "request failed",
                    {{"request_id", "abc-1"}, {"error", "bad \"input\"\nline 2\x01"}});
  EXPECT_THAT(line.substr(0, 35),
              MatchesRegex(R"(\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z",)"));
  EXPECT_EQ(line.substr(35), R"("level":"warning","message":"request failed","request_id":"abc-1",)"
                             R"("error":"bad \"input\"\nline 2\u0001"})"
                             "\n");
  // Plain spdlog text (no fields) becomes the message.
  EXPECT_THAT(FormatForTest("json", spdlog::level::info, "loaded \"digits\"", {}),
              HasSubstr(R"("level":"info","message":"loaded \"digits\""})"));
}

TEST(LoggingTest, TextLinesAppendFieldsAsKeyValue) {
  const std::string line = FormatForTest("text", spdlog::level::warn, "request failed",
                                         {{"model", "digits"}, {"error", "has spaces"}});
  EXPECT_THAT(line, HasSubstr("[warning] request failed model=digits error=\"has spaces\""));
  // Separator characters inside a value cannot forge a field.
  EXPECT_THAT(FormatForTest("text", spdlog::level::info, "m",
                            {{"k",
                              "a\x1f"
                              "x\x1f"
                              "y"}}),
              HasSubstr("m k=\"a x y\""));
}

TEST(LoggingTest, ConfigureRejectsUnknownFormatsAndLevels) {
  EXPECT_EQ(ConfigureLogging("xml", "info").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigureLogging("json", "loud").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConfigureLogging("text", "info").ok());
}

TEST(RequestIdTest, ClientIdsAreUsedOnlyWhenPrintableAndShort) {
  EXPECT_TRUE(IsUsableRequestId("7f3c9a2e-1b4d-4c2a-9e8f-0a1b2c3d4e5f"));
  EXPECT_FALSE(IsUsableRequestId(""));
  EXPECT_FALSE(IsUsableRequestId("has space"));
  EXPECT_FALSE(IsUsableRequestId("new\nline"));
  EXPECT_FALSE(IsUsableRequestId(std::string(kMaxRequestIdLength + 1, 'a')));
  EXPECT_TRUE(IsUsableRequestId(std::string(kMaxRequestIdLength, 'a')));
}

TEST(RequestIdTest, GeneratedIdsAreDistinctAndCarryTheSourcePrefix) {
  RequestIdSource a;
  RequestIdSource b;
  const std::string a1 = a.Next();
  const std::string a2 = a.Next();
  EXPECT_THAT(a1, MatchesRegex("[0-9a-f]{16}-[0-9a-f]{8}"));
  EXPECT_NE(a1, a2);
  EXPECT_EQ(a1.substr(0, 16), a2.substr(0, 16));
  EXPECT_NE(a1.substr(0, 16), b.Next().substr(0, 16)) << "two servers, two prefixes";
  EXPECT_TRUE(IsUsableRequestId(a1));
}

TEST(MessageLimitTest, OversizeMessagesNameTheirSizeTheLimitAndTheFlag) {
  tensorflow::serving::PredictResponse response;
  (*response.mutable_outputs())["logits"].set_tensor_content(std::string(5000, 'x'));
  EXPECT_TRUE(CheckMessageSize(response, 10000, "Predict response").ok());
  const absl::Status status = CheckMessageSize(response, 4096, "Predict response");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(),
              HasSubstr(absl::StrCat("Predict response is ", response.ByteSizeLong(),
                                     " bytes, over this server's limit of 4096 bytes "
                                     "(--max-message-bytes)")));
  EXPECT_EQ(GrpcHardMessageLimit(1 << 20), 2 << 20);
  EXPECT_EQ(GrpcHardMessageLimit(int64_t{1} << 30), 2147483647) << "gRPC limits are ints";
}

TEST(ProcessMetricsTest, ReportsThisProcess) {
  const auto now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ProcessMetrics process;
  ASSERT_TRUE(process.start_time_seconds().has_value());
  // /proc/stat's boot time has 1 s resolution; the process started at most minutes ago.
  EXPECT_LE(*process.start_time_seconds(), now + 2);
  EXPECT_GE(*process.start_time_seconds(), now - 600);
  const std::string text = prometheus::TextSerializer().Serialize(process.Collect());
  for (const char* family :
       {"# TYPE process_start_time_seconds gauge", "# TYPE process_cpu_seconds_total counter",
        "# TYPE process_resident_memory_bytes gauge", "# TYPE process_virtual_memory_bytes gauge",
        "# TYPE process_open_fds gauge", "# TYPE process_max_fds gauge"}) {
    EXPECT_THAT(text, HasSubstr(family));
  }
}

TEST(HttpEndpointTest, ServesMetricsAndReadinessOnOnePort) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("q8serve_test_total")
      .Help("t")
      .Register(*registry)
      .Add({})
      .Increment(3);
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> http =
      HttpEndpoint::Start("127.0.0.1", 0, {registry, std::make_shared<ProcessMetrics>()});
  ASSERT_TRUE(http.ok()) << http.status();
  const int port = (*http)->port();
  ASSERT_GT(port, 0);
  const std::string metrics = e2e::HttpGet(port, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("q8serve_test_total 3"));
  EXPECT_THAT(metrics, HasSubstr("process_open_fds "));
  EXPECT_THAT(e2e::HttpGetRaw(port, "/ready"), StartsWith("HTTP/1.1 200 OK\r\n"));
  (*http)->SetReady(false);
  EXPECT_THAT(e2e::HttpGetRaw(port, "/ready"), StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_EQ(e2e::HttpGet(port, "/ready"), "shutting down\n");
  EXPECT_EQ(e2e::HttpGet(port, "/live"), "live\n");

  // The port is taken now: a second endpoint on it fails cleanly.
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> clash =
      HttpEndpoint::Start("127.0.0.1", port, {registry});
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kUnavailable);

  // Stopping does not wait for civetweb's 2 s poll.
  const auto start = std::chrono::steady_clock::now();
  http->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(GrpcListenerTest, BindsAFreePortAndATakenOneFailsNamingIt) {
  absl::StatusOr<std::unique_ptr<GrpcListener>> first = GrpcListener::Bind("127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = (*first)->port();
  ASSERT_GT(port, 0);
  absl::StatusOr<std::unique_ptr<GrpcListener>> second = GrpcListener::Bind("127.0.0.1", port);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("cannot listen for gRPC on 127.0.0.1:", port,
                                     ": bind: Address already in use")));
  // Closed: the port is free again.
  (*first)->Close();
  EXPECT_TRUE(GrpcListener::Bind("127.0.0.1", port).ok());
  EXPECT_EQ(GrpcListener::Bind("no-such-host.invalid", 0).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace q8::server
