// The signature-layer fixtures (tests/fixtures/signature, make_renamed_models.py): the
// digits classifier under the tensor names of real quantization tools. Each must load,
// expose the graph boundary its tool gives it, and classify batch4.npy as the digits
// model does, converting at a quantized boundary with the quantization ModelInfo reports
// (QuantizeTensor / DequantizeTensor, as the server will).
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "engine/engine.h"
#include "tests/engine/model_test_util.h"

namespace q8::engine {
namespace {

namespace qt = q8::testing;

struct Variant {
  const char* file;
  const char* input;
  DType input_dtype;
  const char* output;
  DType output_dtype;
};

// gtest prints parameters in failure messages and test lists: the file says it all.
void PrintTo(const Variant& c, std::ostream* os) { *os << c.file; }

// The names and dtypes expected.json records, written out so that a regenerated fixture
// that renames its boundary fails here, not in the server's tests.
constexpr Variant kVariants[] = {
    {"digits_tflite_style.onnx", "serving_default_images:0", DType::kFloat32,
     "StatefulPartitionedCall:0", DType::kFloat32},
    {"digits_uint8_io.onnx", "images_QuantizeLinear_Output", DType::kUint8,
     "logits_QuantizeLinear_Output", DType::kUint8},
    {"digits_qoperator.onnx", "images", DType::kFloat32, "/fc3/Add_output_0", DType::kFloat32},
    {"digits_tf_quantize_graph.onnx", "images:0", DType::kFloat32, "logits:0", DType::kFloat32},
};

class RenamedModelTest : public ::testing::TestWithParam<Variant> {};

TEST_P(RenamedModelTest, ClassifiesBatch4LikeTheDigitsModel) {
  const Variant& v = GetParam();
  auto model = LoadModel(qt::RequireFile(qt::SourceDir() + "/tests/fixtures/signature/" + v.file));
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();
  EXPECT_EQ(info.num_int8_kernels, 3) << "fc1..fc3 on int8 oneDNN matmul";
  ASSERT_EQ(info.inputs.size(), 1u);
  ASSERT_EQ(info.outputs.size(), 1u);
  EXPECT_EQ(info.inputs[0].name, v.input);
  EXPECT_EQ(info.inputs[0].dtype, v.input_dtype);
  EXPECT_EQ(info.inputs[0].shape, (Shape{-1, 64}));
  EXPECT_EQ(info.outputs[0].name, v.output);
  EXPECT_EQ(info.outputs[0].dtype, v.output_dtype);
  EXPECT_EQ(info.outputs[0].shape, (Shape{-1, 10}));
  EXPECT_EQ(info.metadata.count("naming_style"), 1u);

  Tensor batch4 = qt::ReadFloatNpy(qt::DigitsExamplesDir() + "/batch4.npy");
  Tensor input;
  if (v.input_dtype == DType::kFloat32) {
    input = std::move(batch4);
  } else {
    ASSERT_TRUE(info.inputs[0].quant.has_value()) << "a quantized input must say how to quantize";
    auto q = QuantizeTensor(qt::ViewOf(batch4), *info.inputs[0].quant);
    ASSERT_TRUE(q.ok()) << q.status();
    input = *std::move(q);
  }
  RunContext ctx;
  auto out = (*model)->Run(ctx, {qt::ViewOf(input)});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  Tensor logits;
  if (v.output_dtype == DType::kFloat32) {
    logits = std::move((*out)[0]);
  } else {
    ASSERT_TRUE(info.outputs[0].quant.has_value())
        << "a quantized output must say how to dequantize";
    auto real = DequantizeTensor(qt::ViewOf((*out)[0]), *info.outputs[0].quant);
    ASSERT_TRUE(real.ok()) << real.status();
    logits = *std::move(real);
  }

  Tensor want = qt::ReadFloatNpy(qt::DigitsExamplesDir() + "/batch4_logits_reference.npy");
  const double diff = qt::MaxAbsDiff(logits, want);
  RecordProperty("max_abs_logit_diff", std::to_string(diff));  // margin, in --gtest_output=xml
  EXPECT_LE(diff, qt::kLogitTolerance * qt::MaxAbs(want));
  const std::vector<int64_t> labels = qt::DigitsBatch4Labels();
  for (int64_t r = 0; r < static_cast<int64_t>(labels.size()); ++r) {
    EXPECT_EQ(qt::ArgMaxRow(logits, r), labels[r]) << "sample " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RenamedModelTest, ::testing::ValuesIn(kVariants),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace q8::engine
