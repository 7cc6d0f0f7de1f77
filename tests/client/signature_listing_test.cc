#include "client/signature_listing.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/q8serve_responses.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

// One source line per output line, as in graph_listing_test.cc.
// clang-format off
TEST(RenderSignatureTest, WholeListing) {
  EXPECT_EQ(RenderSignature(DigitsSignature()),
      "model digits version 1 signature serving_default\n"
      "\n"
      "INPUTS\n"
      "  NAME       TENSOR           DTYPE    SHAPE   CONVERSION                             RULE      SOURCE\n"
      "  images  →  input_quantized  float32  [?,64]  quantize float32→uint8 s=0.003922 z=0  explicit  signatures.pbtxt\n"
      "      signatures.pbtxt binds images to input_quantized\n"
      "\n"
      "OUTPUTS\n"
      "  NAME              TENSOR            DTYPE    SHAPE   CONVERSION                            RULE           SOURCE\n"
      "  probabilities  →  logits_quantized  float32  [?,10]  dequantize int8→float32 s=0.125 z=-3  boundary_walk  reference model_float.onnx\n"
      "      graph output logits is DequantizeLinear(logits_quantized); bound before the dequantize\n"
      "  raw            →  logits_quantized  int8     [?,10]  none, int8 s=0.125 z=-3               graph_output   graph\n");
}
// clang-format on

TEST(FormatConversionTest, ArrowFollowsTheDataFlow) {
  q8serve::v1::TensorBinding b;
  b.set_dtype("float32");
  b.set_tensor_dtype("uint8");
  b.set_conversion("quantize");
  *b.mutable_quant() = PerTensorQuant(0.5f, 7, "uint8");
  EXPECT_EQ(FormatConversion(b, /*is_input=*/true), "quantize float32→uint8 s=0.5 z=7");
  b.set_conversion("dequantize");
  EXPECT_EQ(FormatConversion(b, /*is_input=*/false), "dequantize uint8→float32 s=0.5 z=7");
}

TEST(FormatConversionTest, PerChannelAndUnknownConversion) {
  q8serve::v1::TensorBinding b;
  b.set_dtype("float32");
  b.set_tensor_dtype("int8");
  b.set_conversion("requantize");  // Not known today: printed as given.
  b.mutable_quant()->set_per_channel(true);
  b.mutable_quant()->set_axis(1);
  b.mutable_quant()->add_scales(1);
  b.mutable_quant()->add_scales(2);
  EXPECT_EQ(FormatConversion(b, /*is_input=*/true), "requantize float32→int8 per-axis(1) ×2");
}

TEST(FormatConversionTest, NoConversion) {
  q8serve::v1::TensorBinding b;
  b.set_dtype("float32");
  EXPECT_EQ(FormatConversion(b, /*is_input=*/true), "none");
}

TEST(RenderSignatureTest, EmptySectionsAndMissingFields) {
  q8serve::v1::GetSignatureResponse s;
  s.set_model_name("m");
  s.set_version(3);
  s.set_signature_name("serving_default");
  q8serve::v1::TensorBinding* in = s.add_inputs();
  in->set_logical_name("x");
  const std::string out = RenderSignature(s);
  EXPECT_THAT(out, HasSubstr("  x     →  -       -      []     none        -     -\n"));
  EXPECT_THAT(out, HasSubstr("OUTPUTS: none\n"));
}

}  // namespace
}  // namespace q8::client
