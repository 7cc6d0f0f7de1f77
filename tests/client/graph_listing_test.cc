#include "client/graph_listing.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/q8serve_responses.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

// The expected text is the listing a person sees, so it stays one source
// line per output line.
// clang-format off
TEST(RenderGraphTest, WholeListing) {
  EXPECT_EQ(RenderGraph(DigitsGraphSlice()),
      "model digits version 1 (onnx, /models/digits/1/model.onnx): showing 5 of 23 tensors, 2 of 9 nodes\n"
      "\n"
      "TENSORS\n"
      "  NAME                  DTYPE    SHAPE    QUANT                 PRODUCER\n"
      "  input                 float32  [?,64]   -                     -                 IN\n"
      "  input_quantized       uint8    [?,64]   uint8 s=0.003922 z=0  QuantizeLinear\n"
      "  fc1.weight_quantized  int8     [64,32]  int8 per-axis(0) ×64  -\n"
      "  fc1_out               ?        ?        -                     -\n"
      "  logits                float32  [?,10]   -                     DequantizeLinear  OUT\n"
      "\n"
      "NODES\n"
      "  OP              NAME         INPUTS → OUTPUTS\n"
      "  QuantizeLinear  quant_input  input, input_scale, input_zero_point → input_quantized\n"
      "  QLinearMatMul   -            input_quantized, -, fc1.weight_quantized → fc1_out\n");
}
// clang-format on

TEST(RenderGraphTest, TensorBothInputAndOutput) {
  q8serve::v1::GetGraphResponse g;
  q8serve::v1::GraphTensor* t = AddTensor(g, "passthrough", "int8", {4}, "");
  t->set_is_input(true);
  t->set_is_output(true);
  EXPECT_THAT(RenderGraph(g), HasSubstr("  passthrough  int8   [4]    -      -         IN OUT\n"));
}

TEST(RenderGraphTest, NothingMatches) {
  q8serve::v1::GetGraphResponse g;
  g.set_model_name("digits");
  g.set_version(2);
  g.set_total_tensors(23);
  g.set_total_nodes(9);
  EXPECT_EQ(RenderGraph(g),
            "model digits version 2: showing 0 of 23 tensors, 0 of 9 nodes\n"
            "\n"
            "TENSORS: none match\n"
            "\n"
            "NODES: none match\n");
}

TEST(RenderGraphTest, LongNamesAreNotTruncated) {
  q8serve::v1::GetGraphResponse g;
  const std::string name(200, 'n');
  AddTensor(g, name, "int8", {1}, "");
  EXPECT_THAT(RenderGraph(g), HasSubstr("  " + name + "  int8"));
}

}  // namespace
}  // namespace q8::client
