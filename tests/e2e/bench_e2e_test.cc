// End-to-end: `q8c bench` against the real server, closed and open loop, both APIs:
// the JSON line has every field and its counts add up (no timing is asserted: speed
// belongs in benchmarks). Errors are reported by gRPC code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "client/json.h"
#include "tests/common/run_tool.h"
#include "tests/common/test_env.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

std::string RunQ8c(const std::string& args, int* code) {
  return q8::testing::RunTool("Q8C_BIN", args, q8::testing::Stderr::kDropped, code);
}

// The bench line's members: numbers by key, and the errors object by code.
struct BenchResult {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
  std::map<std::string, double> errors;
};

BenchResult Parse(const std::string& line) {
  BenchResult r;
  absl::StatusOr<client::JsonValue> json = client::ParseJson(line);
  EXPECT_TRUE(json.ok()) << line << ": " << json.status();
  if (!json.ok()) return r;
  for (const auto& [key, value] : json->members) {
    if (value.kind == client::JsonValue::Kind::kNumber) r.numbers[key] = value.number;
    if (value.kind == client::JsonValue::Kind::kString) r.strings[key] = value.text;
    if (key == "errors") {
      for (const auto& [code, n] : value.members) r.errors[code] = n.number;
    }
  }
  return r;
}

void ExpectPercentilesOrdered(const BenchResult& r) {
  for (const char* key :
       {"p50_ms", "p90_ms", "p99_ms", "p999_ms", "duration_s", "throughput_per_s"}) {
    EXPECT_TRUE(r.numbers.count(key)) << key;
  }
  EXPECT_GT(r.numbers.at("p50_ms"), 0);
  EXPECT_LE(r.numbers.at("p50_ms"), r.numbers.at("p90_ms"));
  EXPECT_LE(r.numbers.at("p90_ms"), r.numbers.at("p99_ms"));
  EXPECT_LE(r.numbers.at("p99_ms"), r.numbers.at("p999_ms"));
  EXPECT_GT(r.numbers.at("throughput_per_s"), 0);
}

class BenchE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    std::string why;
    ASSERT_NE(StartServerWith(*server_, Repository(), {"--shutdown-delay-secs=0"}, &why), nullptr)
        << why;
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server_->log();
    delete server_;
  }
  static std::string Common(const std::string& model = "digits") {
    return "bench --target=" + server_->grpc_address() + " --model=" + model +
           " --json-input=" + Examples() + "/sample_0.json";
  }
  static ServerProcess* server_;
};

ServerProcess* BenchE2eTest::server_ = nullptr;

TEST_F(BenchE2eTest, ClosedLoopCountsEveryRequest) {
  for (const char* api : {"tfs", "kserve"}) {
    int code = -1;
    const BenchResult r =
        Parse(RunQ8c(Common() + " --api=" + api + " --concurrency=4 --requests=200", &code));
    EXPECT_EQ(code, 0) << api;
    EXPECT_EQ(r.strings.at("mode"), "closed");
    EXPECT_EQ(r.strings.at("api"), api);
    EXPECT_EQ(r.numbers.at("concurrency"), 4);
    EXPECT_EQ(r.numbers.at("requests"), 200);
    EXPECT_EQ(r.numbers.at("ok"), 200);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.numbers.count("target_qps")) << "open-loop fields only in open loop";
    ExpectPercentilesOrdered(r);
  }
}

TEST_F(BenchE2eTest, OpenLoopSchedulesSendsAndAccountsForEachOne) {
  for (const char* api : {"tfs", "kserve"}) {
    // A fixed schedule of 100 calls at 200/s: exactly 100 scheduled, each either sent
    // or dropped, each sent one answered.
    int code = -1;
    const BenchResult r = Parse(RunQ8c(
        Common() + " --api=" + api + " --qps=200 --arrival=fixed --requests=100 --concurrency=2",
        &code));
    EXPECT_EQ(code, 0) << api;
    EXPECT_EQ(r.strings.at("mode"), "open");
    EXPECT_EQ(r.strings.at("arrival"), "fixed");
    EXPECT_EQ(r.numbers.at("target_qps"), 200);
    EXPECT_EQ(r.numbers.at("scheduled"), 100);
    EXPECT_EQ(r.numbers.at("sent") + r.numbers.at("dropped"), 100);
    EXPECT_EQ(r.numbers.at("dropped"), 0) << "100 calls never reach 1000 in flight";
    EXPECT_EQ(r.numbers.at("requests"), r.numbers.at("sent"));
    EXPECT_EQ(r.numbers.at("ok"), r.numbers.at("requests"));
    EXPECT_LE(r.numbers.at("late"), r.numbers.at("sent"));
    EXPECT_EQ(r.numbers.at("late_threshold_ms"), 1);
    EXPECT_GT(r.numbers.at("achieved_qps"), 0);
    // Open loop: not sent at once but on the schedule, whose last call is at 99/200 s.
    EXPECT_GE(r.numbers.at("duration_s"), 0.49);
    ExpectPercentilesOrdered(r);
  }
  // Poisson over a duration: the count follows from the schedule, not a --requests.
  int code = -1;
  const BenchResult r = Parse(RunQ8c(Common() + " --qps=100 --duration-s=1 --seed=3", &code));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(r.strings.at("arrival"), "poisson");
  EXPECT_GT(r.numbers.at("scheduled"), 50) << "about 100 arrivals in 1 s at 100/s";
  EXPECT_LT(r.numbers.at("scheduled"), 150);
  EXPECT_EQ(r.numbers.at("ok"), r.numbers.at("sent"));
}

TEST_F(BenchE2eTest, ErrorsAreCountedByCode) {
  int code = -1;
  const BenchResult r = Parse(RunQ8c(Common("mnist") + " --qps=100 --requests=10", &code));
  EXPECT_EQ(code, 1) << "failed calls make bench exit 1";
  EXPECT_EQ(r.numbers.at("requests"), 10);
  EXPECT_EQ(r.numbers.at("ok"), 0);
  EXPECT_EQ(r.errors, (std::map<std::string, double>{{"NOT_FOUND", 10}}));

  EXPECT_EQ(RunQ8c(Common() + " --arrival=fixed", &code), "");
  EXPECT_EQ(code, 2) << "--arrival without --qps is a usage error";
  RunQ8c(Common() + " --qps=0", &code);
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace q8::e2e
