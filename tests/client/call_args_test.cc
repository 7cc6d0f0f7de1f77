#include "client/call_args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

Args Parse(const std::vector<std::string>& argv) {
  absl::StatusOr<Args> args =
      Args::Parse(argv, {"target", "model", "version", "timeout-ms"}, {}, {});
  EXPECT_TRUE(args.ok()) << args.status();
  return args.ok() ? *args : Args();
}

TEST(ParseModelCallArgsTest, AllFlags) {
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(
      Parse({"--target=h:8500", "--model=digits", "--version=3", "--timeout-ms=10"}), 30000);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->target, "h:8500");
  EXPECT_EQ(call->model, "digits");
  EXPECT_EQ(call->version, 3);
  EXPECT_EQ(call->timeout_ms, 10);
}

TEST(ParseModelCallArgsTest, Defaults) {
  absl::StatusOr<ModelCallArgs> call =
      ParseModelCallArgs(Parse({"--target=h:8500", "--model=digits"}), 1234);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->version, 0);
  EXPECT_EQ(call->timeout_ms, 1234);
}

TEST(ParseModelCallArgsTest, Errors) {
  EXPECT_THAT(ParseModelCallArgs(Parse({"--model=m"}), 1).status().message(),
              HasSubstr("missing --target"));
  EXPECT_THAT(ParseModelCallArgs(Parse({"--target=h:1"}), 1).status().message(),
              HasSubstr("missing --model"));
  EXPECT_THAT(ParseModelCallArgs(Parse({"--target=h:1", "--model=m", "--version=-1"}), 1)
                  .status()
                  .message(),
              HasSubstr("--version must not be negative"));
  EXPECT_THAT(ParseModelCallArgs(Parse({"--target=h:1", "--model=m", "--timeout-ms=soon"}), 1)
                  .status()
                  .message(),
              HasSubstr("--timeout-ms=soon is not an integer"));
}

TEST(ParseCallArgsTest, NeedsNoModel) {
  absl::StatusOr<CallArgs> call = ParseCallArgs(Parse({"--target=h:1"}), 5000);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->target, "h:1");
  EXPECT_EQ(call->timeout_ms, 5000);
}

}  // namespace
}  // namespace q8::client
