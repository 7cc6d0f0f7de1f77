#include "client/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

const std::set<std::string> kKnown = {"target", "grep", "json"};
const std::set<std::string> kSwitches = {"json"};

TEST(ArgsTest, SwitchTakesNoValue) {
  absl::StatusOr<Args> args =
      Args::Parse({"--json", "--target", "h:1", "--grep=conv"}, kKnown, {}, kSwitches);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->Has("json"));
  EXPECT_EQ(args->Get("target"), "h:1");
  EXPECT_EQ(args->Get("grep"), "conv");
}

TEST(ArgsTest, SwitchLastIsNotMissingAValue) {
  absl::StatusOr<Args> args = Args::Parse({"--target=h:1", "--json"}, kKnown, {}, kSwitches);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->Has("json"));
}

TEST(ArgsTest, SwitchWithValueIsAnError) {
  absl::StatusOr<Args> args = Args::Parse({"--json=false"}, kKnown, {}, kSwitches);
  ASSERT_FALSE(args.ok());
  EXPECT_THAT(args.status().message(), HasSubstr("--json takes no value"));
}

TEST(ArgsTest, FlagStillNeedsAValue) {
  absl::StatusOr<Args> args = Args::Parse({"--grep"}, kKnown, {}, kSwitches);
  ASSERT_FALSE(args.ok());
  EXPECT_THAT(args.status().message(), HasSubstr("--grep needs a value"));
}

TEST(ArgsTest, PositionalIsAnError) {
  absl::StatusOr<Args> args = Args::Parse({"conv"}, kKnown, {}, kSwitches);
  ASSERT_FALSE(args.ok());
  EXPECT_THAT(args.status().message(), HasSubstr("unexpected argument 'conv'"));
}

}  // namespace
}  // namespace q8::client
