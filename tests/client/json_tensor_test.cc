#include "client/json_tensor.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "client/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

template <typename T>
std::vector<T> Values(const HostTensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

absl::StatusOr<HostTensor> One(const std::string& json,
                               std::map<std::string, std::string> dtypes = {}) {
  absl::StatusOr<NamedTensors> ts = JsonToTensors(json, dtypes);
  if (!ts.ok()) return ts.status();
  if (ts->size() != 1) return absl::InternalError("expected one tensor");
  return ts->front().second;
}

TEST(JsonTensorTest, InfersNestedShapeAsFloat32) {
  absl::StatusOr<HostTensor> t =
      One(R"({"images": [[[0.5, 1], [2, 3]], [[4, 5], [6, -7.25]], [[8, 9], [1e1, 11]]]})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, "float32");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 2, 2}));
  EXPECT_THAT(Values<float>(*t),
              ::testing::ElementsAre(0.5f, 1, 2, 3, 4, 5, 6, -7.25f, 8, 9, 10, 11));
}

TEST(JsonTensorTest, ScalarsEmptyArraysAndBooleans) {
  absl::StatusOr<NamedTensors> ts =
      JsonToTensors(R"({"s": 3, "e": [], "e2": [[], []], "m": [true, false, true]})", {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  ASSERT_EQ(ts->size(), 4u);
  // Document order is kept.
  EXPECT_EQ((*ts)[0].first, "s");
  EXPECT_TRUE((*ts)[0].second.shape.empty());
  EXPECT_EQ((*ts)[1].second.shape, (std::vector<int64_t>{0}));
  EXPECT_EQ((*ts)[1].second.data, "");
  EXPECT_EQ((*ts)[2].second.shape, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ((*ts)[3].second.dtype, "bool");
  EXPECT_EQ((*ts)[3].second.data, std::string("\1\0\1", 3));
}

TEST(JsonTensorTest, DtypeOverrideKeepsInt64Exact) {
  // 2^53 + 1 is not representable as a double; it must not be rounded.
  absl::StatusOr<HostTensor> t =
      One(R"({"ids": [[9007199254740993, -5], [0, 1.0e2]]})", {{"ids", "int64"}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, "int64");
  EXPECT_THAT(Values<int64_t>(*t), ::testing::ElementsAre(9007199254740993LL, -5, 0, 100));
}

TEST(JsonTensorTest, IntegerDtypesCheckRangeAndFractions) {
  absl::StatusOr<HostTensor> ok = One(R"({"q": [-128, 127]})", {{"q", "int8"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(Values<int8_t>(*ok), ::testing::ElementsAre(-128, 127));

  absl::StatusOr<HostTensor> range = One(R"({"q": [[1, 2], [3, 128]]})", {{"q", "int8"}});
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(range.status().message(), HasSubstr("q[1][1]: 128 is out of range (dtype int8)"));

  absl::StatusOr<HostTensor> neg = One(R"({"u": [-1]})", {{"u", "uint8"}});
  ASSERT_FALSE(neg.ok());
  EXPECT_THAT(neg.status().message(), HasSubstr("u[0]: -1 is out of range"));

  absl::StatusOr<HostTensor> frac = One(R"({"ids": [1, 2.5]})", {{"ids", "int32"}});
  ASSERT_FALSE(frac.ok());
  EXPECT_THAT(frac.status().message(), HasSubstr("ids[1]: 2.5 is not an integer"));

  absl::StatusOr<HostTensor> f32 = One(R"({"x": [1e39]})");
  ASSERT_FALSE(f32.ok());
  EXPECT_THAT(f32.status().message(), HasSubstr("x[0]: 1e39 is out of range (dtype float32)"));
}

TEST(JsonTensorTest, RaggedArraysAreRejectedWithThePath) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"x": [[1, 2], [3]]})",
       "ragged array: x[1] has 1 elements but 2 were expected (inferred shape [2, 2])"},
      {R"({"x": [[1, 2], [3, [4]]]})", "ragged array: x[1][1] is an array but x[0][0] is a scalar"},
      {R"({"x": [[1, 2], 3]})", "ragged array: x[1] is a number but an array of 2"},
      {R"({"x": [[], [1]]})", "ragged array: x[1] has 1 elements but 0 were expected"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<HostTensor> t = One(c.json);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(c.message));
  }
}

TEST(JsonTensorTest, RejectsNonNumericLeavesAndBadDocuments) {
  absl::StatusOr<HostTensor> str = One(R"({"x": [1, "2"]})");
  ASSERT_FALSE(str.ok());
  EXPECT_THAT(str.status().message(),
              HasSubstr("x[1]: expected a number or boolean, got a string"));

  absl::StatusOr<NamedTensors> not_object = JsonToTensors("[1, 2]", {});
  ASSERT_FALSE(not_object.ok());
  EXPECT_THAT(not_object.status().message(), HasSubstr("must be an object"));

  absl::StatusOr<NamedTensors> dup = JsonToTensors(R"({"a": [1], "a": [2]})", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().message(), HasSubstr("'a' appears twice"));

  absl::StatusOr<NamedTensors> syntax = JsonToTensors("{\"a\": [1,\n 2,, 3]}", {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.status().message(), HasSubstr("JSON line 2 column 4"));

  absl::StatusOr<NamedTensors> bad_dtype = JsonToTensors(R"({"a": [1]})", {{"a", "complex64"}});
  ASSERT_FALSE(bad_dtype.ok());
  EXPECT_THAT(bad_dtype.status().message(), HasSubstr("unsupported dtype 'complex64'"));
}

TEST(JsonTensorTest, AcceptsTfServingColumnarWrapper) {
  absl::StatusOr<HostTensor> t = One(R"({"inputs": {"x": [[1, 2]]}})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape, (std::vector<int64_t>{1, 2}));
}

TEST(JsonTensorTest, WritesTensorJsonRowMajor) {
  HostTensor f{"float32", {1, 3}, ""};
  for (float v : {0.1f, -2.5f, std::numeric_limits<float>::quiet_NaN()}) {
    f.data.append(reinterpret_cast<const char*>(&v), 4);
  }
  JsonWriter w;
  ASSERT_TRUE(WriteTensorJson(f, w).ok());
  // Shortest round-trip text: 0.1f prints as 0.1, not 0.10000000149.
  EXPECT_EQ(w.str(), R"({"dtype":"float32","shape":[1,3],"data":[0.1,-2.5,NaN]})");

  HostTensor i{"uint64", {2}, ""};
  for (uint64_t v : {uint64_t{0}, std::numeric_limits<uint64_t>::max()}) {
    i.data.append(reinterpret_cast<const char*>(&v), 8);
  }
  JsonWriter w2;
  ASSERT_TRUE(WriteTensorJson(i, w2).ok());
  EXPECT_EQ(w2.str(), R"({"dtype":"uint64","shape":[2],"data":[0,18446744073709551615]})");

  HostTensor bad{"int32", {2}, "abc"};
  JsonWriter w3;
  EXPECT_FALSE(WriteTensorJson(bad, w3).ok());
}

TEST(JsonTensorTest, RoundTripsThroughWriterAndParser) {
  absl::StatusOr<HostTensor> t = One(R"({"x": [[1.5, -0.25], [3, 4e-3]]})");
  ASSERT_TRUE(t.ok()) << t.status();
  JsonWriter w;
  ASSERT_TRUE(WriteTensorJson(*t, w).ok());
  absl::StatusOr<JsonValue> parsed = ParseJson(w.str());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const JsonValue& data = parsed->members[2].second;
  absl::StatusOr<HostTensor> back = JsonValueToTensor(data, "x", "float32");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->data, t->data);
}

TEST(JsonTest, ParsesStringsWithEscapes) {
  absl::StatusOr<JsonValue> v = ParseJson(R"({"k\u00e9\n": "a\"b\\c\ud83d\ude00"})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->members[0].first, "k\xc3\xa9\n");
  EXPECT_EQ(v->members[0].second.text, "a\"b\\c\xf0\x9f\x98\x80");
  JsonWriter w;
  w.BeginObject().Key(v->members[0].first).String("\x01").EndObject();
  EXPECT_EQ(w.str(), "{\"k\xc3\xa9\\n\":\"\\u0001\"}");
}

TEST(JsonTest, RejectsTooDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  absl::StatusOr<JsonValue> v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("nesting too deep"));
}

}  // namespace
}  // namespace q8::client
