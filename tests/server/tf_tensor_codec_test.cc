#include "server/api/tf_tensor_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace q8::server {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

tensorflow::TensorProto MakeProto(tensorflow::DataType dtype, std::vector<int64_t> dims) {
  tensorflow::TensorProto proto;
  proto.set_dtype(dtype);
  for (int64_t d : dims) proto.mutable_tensor_shape()->add_dim()->set_size(d);
  return proto;
}

std::vector<float> Floats(const engine::Tensor& t) {
  const float* p = t.data_as<float>();
  return std::vector<float>(p, p + t.num_elements());
}

TEST(TfTensorCodecTest, TensorContentAndFloatValDecodeToTheSameTensor) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  tensorflow::TensorProto raw = MakeProto(tensorflow::DT_FLOAT, {2, 3});
  raw.set_tensor_content(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  tensorflow::TensorProto typed = MakeProto(tensorflow::DT_FLOAT, {2, 3});
  for (float v : values) typed.add_float_val(v);

  absl::StatusOr<engine::Tensor> a = DecodeTensorProto("x", raw);
  absl::StatusOr<engine::Tensor> b = DecodeTensorProto("x", typed);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->dtype(), engine::DType::kFloat32);
  EXPECT_THAT(a->shape(), ElementsAre(2, 3));
  EXPECT_THAT(Floats(*a), ElementsAreArray(values));
  EXPECT_THAT(Floats(*b), ElementsAreArray(values));
}

TEST(TfTensorCodecTest, SingleTypedValueBroadcastsToTheWholeShape) {
  tensorflow::TensorProto proto = MakeProto(tensorflow::DT_FLOAT, {2, 4});
  proto.add_float_val(0.25f);
  absl::StatusOr<engine::Tensor> t = DecodeTensorProto("x", proto);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Floats(*t), ElementsAreArray(std::vector<float>(8, 0.25f)));
}

TEST(TfTensorCodecTest, BroadcastAppliesToIntAndBoolFieldsToo) {
  tensorflow::TensorProto ints = MakeProto(tensorflow::DT_INT64, {3});
  ints.add_int64_val(-7);
  absl::StatusOr<engine::Tensor> a = DecodeTensorProto("ids", ints);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(std::vector<int64_t>(a->data_as<int64_t>(), a->data_as<int64_t>() + 3),
              ElementsAre(-7, -7, -7));

  tensorflow::TensorProto bools = MakeProto(tensorflow::DT_BOOL, {2});
  bools.add_bool_val(true);
  absl::StatusOr<engine::Tensor> b = DecodeTensorProto("mask", bools);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->data_as<bool>()[0]);
  EXPECT_TRUE(b->data_as<bool>()[1]);
}

TEST(TfTensorCodecTest, Int8AndUint8ComeFromIntVal) {
  tensorflow::TensorProto s8 = MakeProto(tensorflow::DT_INT8, {3});
  for (int v : {-128, 0, 127}) s8.add_int_val(v);
  absl::StatusOr<engine::Tensor> a = DecodeTensorProto("q", s8);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype(), engine::DType::kInt8);
  EXPECT_THAT(std::vector<int>(a->data_as<int8_t>(), a->data_as<int8_t>() + 3),
              ElementsAre(-128, 0, 127));

  tensorflow::TensorProto u8 = MakeProto(tensorflow::DT_UINT8, {2});
  u8.add_int_val(0);
  u8.add_int_val(256);
  absl::StatusOr<engine::Tensor> b = DecodeTensorProto("q", u8);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(b.status().message(), HasSubstr("int_val[1] = 256 is out of range"));
}

TEST(TfTensorCodecTest, TypedCountMismatchNamesInputDtypeAndExpectedCount) {
  tensorflow::TensorProto proto = MakeProto(tensorflow::DT_FLOAT, {2, 3});
  proto.add_float_val(1);
  proto.add_float_val(2);
  absl::StatusOr<engine::Tensor> t = DecodeTensorProto("images", proto);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("Input 'images'"));
  EXPECT_THAT(t.status().message(), HasSubstr("DT_FLOAT"));
  EXPECT_THAT(t.status().message(), HasSubstr("[2,3]"));
  EXPECT_THAT(t.status().message(), HasSubstr("float_val has 2 values; expected 6"));
  EXPECT_THAT(t.status().message(), HasSubstr("or 1 (broadcast"));
}

TEST(TfTensorCodecTest, TensorContentSizeMismatchNamesExpectedBytes) {
  tensorflow::TensorProto proto = MakeProto(tensorflow::DT_FLOAT, {1, 64});
  proto.set_tensor_content(std::string(100, '\0'));
  absl::StatusOr<engine::Tensor> t = DecodeTensorProto("images", proto);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("Input 'images' (DT_FLOAT, shape [1,64])"));
  EXPECT_THAT(t.status().message(),
              HasSubstr("tensor_content has 100 bytes; expected 256 (64 elements of 4 bytes)"));
}

TEST(TfTensorCodecTest, NoValuesForANonEmptyTensorIsAnError) {
  // TF would silently fill zeros; a request without values is almost surely a bug.
  tensorflow::TensorProto proto = MakeProto(tensorflow::DT_FLOAT, {1, 4});
  proto.add_int_val(3);  // wrong field for DT_FLOAT
  absl::StatusOr<engine::Tensor> t = DecodeTensorProto("x", proto);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("float_val has 0 values; expected 4"));
}

TEST(TfTensorCodecTest, EmptyTensorAndScalarDecode) {
  absl::StatusOr<engine::Tensor> empty =
      DecodeTensorProto("x", MakeProto(tensorflow::DT_FLOAT, {0, 64}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->num_elements(), 0);

  tensorflow::TensorProto scalar = MakeProto(tensorflow::DT_INT32, {});
  scalar.add_int_val(42);
  absl::StatusOr<engine::Tensor> s = DecodeTensorProto("n", scalar);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->shape().empty());
  EXPECT_EQ(s->data_as<int32_t>()[0], 42);
}

TEST(TfTensorCodecTest, BadShapesAndDtypesAreRejectedWithoutAllocating) {
  tensorflow::TensorProto unknown_dim = MakeProto(tensorflow::DT_FLOAT, {-1, 64});
  EXPECT_THAT(DecodeTensorProto("x", unknown_dim).status().message(),
              HasSubstr("dimension 0 is unknown"));

  tensorflow::TensorProto unknown_rank = MakeProto(tensorflow::DT_FLOAT, {});
  unknown_rank.mutable_tensor_shape()->set_unknown_rank(true);
  EXPECT_EQ(DecodeTensorProto("x", unknown_rank).status().code(),
            absl::StatusCode::kInvalidArgument);

  // A broadcast value with a huge shape would ask for exabytes.
  tensorflow::TensorProto huge = MakeProto(tensorflow::DT_FLOAT, {1LL << 40, 1LL << 40});
  huge.add_float_val(1);
  absl::StatusOr<engine::Tensor> h = DecodeTensorProto("x", huge);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(h.status().message(), HasSubstr("limit"));

  tensorflow::TensorProto str = MakeProto(tensorflow::DT_STRING, {1});
  absl::StatusOr<engine::Tensor> s = DecodeTensorProto("text", str);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("unsupported dtype DT_STRING"));
  EXPECT_THAT(s.status().message(), HasSubstr("DT_FLOAT"));
}

TEST(TfTensorCodecTest, EncodeUsesTensorContent) {
  engine::Tensor t(engine::DType::kFloat32, {1, 3});
  t.data_as<float>()[0] = 1;
  t.data_as<float>()[1] = 2;
  t.data_as<float>()[2] = 3;
  tensorflow::TensorProto proto;
  ASSERT_TRUE(EncodeTensorProto(t, &proto).ok());
  EXPECT_EQ(proto.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(proto.tensor_shape().dim_size(), 2);
  EXPECT_EQ(proto.tensor_shape().dim(1).size(), 3);
  EXPECT_EQ(proto.float_val_size(), 0);
  ASSERT_EQ(proto.tensor_content().size(), 12u);
  float back[3];
  std::memcpy(back, proto.tensor_content().data(), sizeof(back));
  EXPECT_THAT(back, ElementsAre(1, 2, 3));

  // And it decodes back to the same tensor.
  absl::StatusOr<engine::Tensor> again = DecodeTensorProto("y", proto);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(Floats(*again), ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace q8::server
