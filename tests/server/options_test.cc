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

}  // namespace
}  // namespace q8::server
