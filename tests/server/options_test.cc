#include "server/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace q8::server {
namespace {

using ::testing::HasSubstr;

TEST(OptionsTest, ParsesBothFlagSpellingsAndKeepsDefaults) {
  absl::StatusOr<ServerOptions> o =
      ParseOptions({"--model-repository=/models", "--grpc-port", "0", "--metrics-port=9100",
                    "--ready-file=/tmp/r.json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->model_repository, "/models");
  EXPECT_EQ(o->grpc_port, 0);
  EXPECT_EQ(o->metrics_port, 9100);
  EXPECT_EQ(o->ready_file, "/tmp/r.json");
  EXPECT_EQ(o->host, "0.0.0.0");
  EXPECT_EQ(o->threads, 0);
  EXPECT_EQ(o->log_level, "info");
}

TEST(OptionsTest, ErrorsNameTheFlag) {
  EXPECT_THAT(ParseOptions({}).status().message(), HasSubstr("--model-repository is required"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--grpc-port=70000"}).status().message(),
              HasSubstr("--grpc-port=70000"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--port=1"}).status().message(),
              HasSubstr("unknown flag --port; known:"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--log-level=loud"}).status().message(),
              HasSubstr("expected one of"));
  EXPECT_THAT(ParseOptions({"--model-repository"}).status().message(), HasSubstr("needs a value"));
  EXPECT_TRUE(ParseOptions({"--help"})->help);
}

TEST(OptionsTest, RepositoryPollSeconds) {
  EXPECT_EQ(ParseOptions({"--model-repository=m"})->repository_poll_secs, 0) << "off by default";
  EXPECT_EQ(ParseOptions({"--model-repository=m", "--repository-poll-secs=30"})
                ->repository_poll_secs,
            30);
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--repository-poll-secs=-1"})
                  .status()
                  .message(),
              HasSubstr("--repository-poll-secs=-1: expected an integer in [0, 86400]"));
}

TEST(OptionsTest, Workers) {
  EXPECT_EQ(ParseOptions({"--model-repository=m"})->workers, 0) << "fit the cores by default";
  EXPECT_EQ(ParseOptions({"--model-repository=m", "--workers=4"})->workers, 4);
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--workers=-2"}).status().message(),
              HasSubstr("--workers=-2: expected an integer in [0, 1024]"));
}

TEST(OptionsTest, LoadThreads) {
  EXPECT_EQ(ParseOptions({"--model-repository=m"})->load_threads, 0) << "min(2, cores) by default";
  EXPECT_EQ(ParseOptions({"--model-repository=m", "--load-threads=1"})->load_threads, 1);
  EXPECT_EQ(ParseOptions({"--model-repository=m", "--load-threads", "8"})->load_threads, 8);
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--load-threads=-1"}).status().message(),
              HasSubstr("--load-threads=-1: expected an integer in [0, 64]"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--load-threads=many"}).status().message(),
              HasSubstr("--load-threads=many"));
  EXPECT_THAT(Usage(), HasSubstr("--load-threads"));
}

TEST(OptionsTest, OperationsFlagsHaveDocumentedDefaults) {
  absl::StatusOr<ServerOptions> o = ParseOptions({"--model-repository=m"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->log_format, "text");
  EXPECT_EQ(o->max_message_bytes, 64 << 20);
  EXPECT_EQ(o->grpc_max_connection_age_secs, 0) << "no age limit unless asked";
  EXPECT_EQ(o->grpc_max_connection_age_grace_secs, 0);
  EXPECT_EQ(o->shutdown_delay_secs, 2);
  EXPECT_EQ(o->shutdown_grace_secs, 5);
}

TEST(OptionsTest, ParsesOperationsFlags) {
  absl::StatusOr<ServerOptions> o =
      ParseOptions({"--model-repository=m", "--log-format=json", "--max-message-bytes=1048576",
                    "--grpc-max-connection-age-secs=300", "--grpc-max-connection-age-grace-secs=30",
                    "--shutdown-delay-secs=0", "--shutdown-grace-secs=20"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->log_format, "json");
  EXPECT_EQ(o->max_message_bytes, 1 << 20);
  EXPECT_EQ(o->grpc_max_connection_age_secs, 300);
  EXPECT_EQ(o->grpc_max_connection_age_grace_secs, 30);
  EXPECT_EQ(o->shutdown_delay_secs, 0);
  EXPECT_EQ(o->shutdown_grace_secs, 20);

  EXPECT_THAT(ParseOptions({"--model-repository=m", "--log-format=xml"}).status().message(),
              HasSubstr("--log-format=xml: expected text or json"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--max-message-bytes=10"}).status().message(),
              HasSubstr("--max-message-bytes=10: expected an integer in [1024, 1073741824]"));
  EXPECT_THAT(ParseOptions({"--model-repository=m", "--shutdown-delay-secs=-1"}).status().message(),
              HasSubstr("--shutdown-delay-secs=-1"));
}

}  // namespace
}  // namespace q8::server
