#include "client/q8serve_json.h"

#include <string>

#include "client/json.h"
#include "gtest/gtest.h"
#include "tests/client/q8serve_responses.h"

namespace q8::client {
namespace {

const JsonValue& Member(const JsonValue& object, const std::string& key) {
  for (const auto& [k, v] : object.members) {
    if (k == key) return v;
  }
  ADD_FAILURE() << "no key " << key;
  static const JsonValue kNull;
  return kNull;
}

JsonValue Parse(const std::string& json) {
  absl::StatusOr<JsonValue> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << json;
  return v.ok() ? *v : JsonValue();
}

TEST(GraphToJsonTest, EveryFieldWithNullsForUnset) {
  const JsonValue v = Parse(GraphToJson(DigitsGraphSlice()));
  EXPECT_EQ(Member(v, "model_name").text, "digits");
  EXPECT_EQ(Member(v, "format").text, "onnx");
  EXPECT_EQ(Member(v, "total_tensors").text, "23");
  EXPECT_EQ(Member(v, "total_nodes").text, "9");

  const JsonValue& tensors = Member(v, "tensors");
  ASSERT_EQ(tensors.items.size(), 5u);
  const JsonValue& input = tensors.items[0];
  EXPECT_EQ(Member(input, "shape").items.at(0).text, "-1");
  EXPECT_TRUE(Member(input, "is_input").boolean);
  EXPECT_EQ(Member(input, "quant").kind, JsonValue::Kind::kNull);
  const JsonValue& quantized = Member(tensors.items[1], "quant");
  EXPECT_EQ(Member(quantized, "storage_dtype").text, "uint8");
  EXPECT_EQ(Member(quantized, "zero_points").items.at(0).text, "0");
  EXPECT_EQ(Member(tensors.items[1], "producer_op").text, "QuantizeLinear");
  EXPECT_EQ(Member(tensors.items[3], "shape").kind, JsonValue::Kind::kNull);  // Unknown.

  const JsonValue& nodes = Member(v, "nodes");
  ASSERT_EQ(nodes.items.size(), 2u);
  EXPECT_EQ(Member(nodes.items[1], "inputs").items.at(1).text, "");  // Omitted input kept.
  EXPECT_EQ(Member(nodes.items[1], "outputs").items.at(0).text, "fc1_out");
}

TEST(SignatureToJsonTest, KeepsTheOldKeysAndAddsTheNewFields) {
  const JsonValue v = Parse(SignatureToJson(DigitsSignature()));
  EXPECT_EQ(Member(v, "signature_name").text, "serving_default");
  const JsonValue& in = Member(v, "inputs").items.at(0);
  for (const char* key :
       {"logical_name", "tensor_name", "dtype", "shape", "quant", "rule", "explanation", "source",
        "conversion", "tensor_dtype", "tensor_name_generated"}) {
    Member(in, key);
  }
  EXPECT_EQ(Member(in, "conversion").text, "quantize");
  EXPECT_EQ(Member(in, "tensor_dtype").text, "uint8");
  EXPECT_EQ(Member(in, "source").text, "signatures.pbtxt");
  EXPECT_EQ(Member(Member(in, "quant"), "scales").items.size(), 1u);
  EXPECT_EQ(Member(v, "outputs").items.size(), 2u);
}

TEST(SignatureToJsonTest, UnquantizedBindingHasNullQuant) {
  q8serve::v1::GetSignatureResponse s;
  s.add_inputs()->set_logical_name("x");
  const JsonValue v = Parse(SignatureToJson(s));
  EXPECT_EQ(Member(Member(v, "inputs").items.at(0), "quant").kind, JsonValue::Kind::kNull);
}

}  // namespace
}  // namespace q8::client
