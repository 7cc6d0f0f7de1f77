// q8run on .tflite files, as a user runs it: the binary built beside the tests (Q8RUN_BIN,
// set by ctest), its usage text, its JSON line, and its seeded int8 inputs: with --save,
// the inputs it generated for --seed 7 must be those ../shared/bench/tflite/run.js generated
// for --seed 7 (tests/fixtures/tflite/<model>/seed7, recorded by record_tflite.sh), and the
// outputs the interpreter's for them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "client/npy.h"
#include "tests/common/run_tool.h"
#include "tests/common/test_env.h"

namespace {

namespace fs = std::filesystem;

std::string RunQ8run(const std::string& args, int* code) {
  return q8::testing::RunTool("Q8RUN_BIN", args, q8::testing::Stderr::kMerged, code);
}

// The number after "key": in a one-line JSON object; -1 when absent.
double JsonNumber(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

std::string NpyBytes(const std::string& path) {
  auto t = q8::client::ReadNpyFile(q8::testing::RequireFile(path));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? t->data : std::string();
}

TEST(Q8runToolTest, UsageNamesTfliteAndSeededInputs) {
  int code = 0;
  const std::string out = RunQ8run("", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find(".tflite"), std::string::npos) << out;
  EXPECT_NE(out.find("--seed"), std::string::npos) << out;
  EXPECT_NE(out.find("--save"), std::string::npos) << out;
}

struct Case {
  const char* model;
  const char* input_file;  // run.js's file names (tensor names with '/' and ':' as '_')
  const char* output_file;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.model; }

class Q8runTfliteTest : public ::testing::TestWithParam<Case> {};

TEST_P(Q8runTfliteTest, PrintsJsonAndFeedsRunJsInputsForTheSameSeed) {
  const Case& c = GetParam();
  const std::string model = q8::testing::RequireFile(
      q8::testing::SharedDir() + "/testdata/models/tflite/" + c.model + ".tflite");
  const std::string save =
      (fs::temp_directory_path() / ("q8run-test-" + std::to_string(getpid()) + "-" + c.model))
          .string();
  int code = 0;
  const std::string out = RunQ8run(model + " --iters 3 --warmup 1 --seed 7 --save " + save, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find(std::string("\"model\":\"") + c.model + ".tflite\""), std::string::npos)
      << out;
  EXPECT_NE(out.find("\"format\":\"tflite\""), std::string::npos) << out;
  EXPECT_EQ(JsonNumber(out, "threads"), 1) << out;
  EXPECT_EQ(JsonNumber(out, "batch"), 1) << out;
  for (const char* key : {"p50_ms", "p90_ms", "p99_ms", "mean_ms", "throughput_per_s"}) {
    EXPECT_GT(JsonNumber(out, key), 0) << key << " in " << out;
  }
  EXPECT_LE(JsonNumber(out, "p50_ms"), JsonNumber(out, "p99_ms")) << out;
  const std::string fixtures =
      q8::testing::SourceDir() + "/tests/fixtures/tflite/" + c.model + "/seed7/";
  const std::string input = NpyBytes(save + "/" + c.input_file + ".npy");
  EXPECT_EQ(input, NpyBytes(fixtures + c.input_file + ".npy"))
      << "q8run --seed 7 must feed what run.js --seed 7 fed";
  if (input.size() > 1) {
    EXPECT_NE(input.find_first_not_of(input.substr(0, 1)), std::string::npos)
        << "seeded int8 inputs, not one repeated value";
  }
  EXPECT_EQ(NpyBytes(save + "/" + c.output_file + ".out.npy"),
            NpyBytes(fixtures + c.output_file + ".out.npy"))
      << "the interpreter's outputs for those inputs";
  std::error_code ec;
  fs::remove_all(save, ec);
}

INSTANTIATE_TEST_SUITE_P(
    TfliteModels, Q8runTfliteTest,
    ::testing::Values(Case{"hello_world_int8", "serving_default_dense_input_0",
                           "StatefulPartitionedCall_0"},
                      Case{"micro_speech_quantized", "Reshape_1", "labels_softmax"},
                      Case{"mobilenet_v2_quantized_1x3x224x224", "input.5", "Xq.1"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.model); });

}  // namespace
