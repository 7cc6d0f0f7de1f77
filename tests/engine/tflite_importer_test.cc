// The TFLite importer on real files and damaged copies of them: structure, names,
// signatures, quantization, and load errors instead of crashes.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "engine/engine.h"
#include "tests/common/test_env.h"

namespace q8::engine {
namespace {

std::string ModelPath(const std::string& name) {
  return q8::testing::RequireFile(q8::testing::SharedDir() + "/testdata/models/tflite/" + name +
                                  ".tflite");
}

TEST(TfliteImporterTest, Placeholder) { EXPECT_TRUE(DescribeModelFile(ModelPath("hello_world_int8")).ok()); }

}  // namespace
}  // namespace q8::engine
