// Shape / axes / split arguments fed as graph inputs rather than initializers: the engine
// specialises its plans on their values (BuiltKernel::value_inputs). These tests pin what
// that must mean for a caller: one loaded model serves different argument values, in any
// order and from several threads at once, with the plan cache bounded; bad values are
// INVALID_ARGUMENT naming the node and the values; arguments the engine cannot know while
// planning are refused at load. Expected outputs follow from the ops' definitions
// (Reshape and Split move elements without changing them). Also: empty tensors, which the
// same conformance cases brought in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "tests/engine/onnx_test_models.h"

namespace q8::engine {
namespace {

using q8::testing::AddInput;
using q8::testing::AddNode;
using q8::testing::MakeModel;
using q8::testing::WriteModel;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt32 = onnx::TensorProto::INT32;
constexpr int kInt64 = onnx::TensorProto::INT64;

// y = Reshape(x, shape), x: float [24] (or `x_dims`), shape: int64 graph input.
std::string ReshapeModel(const std::string& file, std::vector<int64_t> x_dims = {24},
                         std::vector<int64_t> shape_dims = {-1}) {
  onnx::ModelProto m = MakeModel(14);
  auto* g = m.mutable_graph();
  AddInput(g, "x", kFloat, x_dims);
  AddInput(g, "shape", kInt64, shape_dims);
  AddNode(g, "Reshape", "reshape", {"x", "shape"}, {"y"});
  AddInput(g, "y", kFloat, {}, /*output=*/true);
  return WriteModel(m, file);
}

Tensor Iota(int64_t n) {
  Tensor t(DType::kFloat32, {n});
  std::iota(t.data_as<float>(), t.data_as<float>() + n, 0.f);
  return t;
}

Tensor Int64s(const std::vector<int64_t>& values) {
  Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data_as<int64_t>());
  return t;
}

TensorView View(const Tensor& t) { return TensorView{t.dtype(), t.shape(), t.data()}; }

// Reshape is a relabelling: same elements, same order, the requested dims.
void ExpectReshaped(const absl::StatusOr<std::vector<Tensor>>& out, const Tensor& x,
                    const Shape& dims) {
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), dims);
  ASSERT_EQ(y.num_elements(), x.num_elements());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    ASSERT_EQ(y.data_as<float>()[i], x.data_as<float>()[i]) << "element " << i;
  }
}

TEST(ShapeArgumentInputsTest, OneModelServesDifferentShapeValuesInAnyOrder) {
  auto model = LoadModel(ReshapeModel("reshape_shape_input.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(24);
  RunContext ctx;
  // Revisiting [4,6] after other values must give [4,6] again, not a plan made for another.
  const std::vector<std::pair<std::vector<int64_t>, Shape>> runs = {
      {{4, 6}, {4, 6}}, {{2, 12}, {2, 12}},     {{-1, 3}, {8, 3}},  {{4, 6}, {4, 6}},
      {{6, 4}, {6, 4}}, {{2, 3, 4}, {2, 3, 4}}, {{0, -1}, {24, 1}}, {{24}, {24}},
  };
  for (const auto& [shape, want] : runs) {
    const Tensor s = Int64s(shape);
    SCOPED_TRACE(ShapeToString(shape));
    ExpectReshaped((*model)->Run(ctx, {View(x), View(s)}), x, want);
  }
}

// The model info says which inputs' values shape the plan (so the server will not batch them).
TEST(ShapeArgumentInputsTest, ModelInfoMarksTheInputWhoseValuesShapeThePlan) {
  auto model = LoadModel(ReshapeModel("reshape_info.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const auto& inputs = (*model)->info().inputs;
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_FALSE(inputs[0].values_shape_the_plan) << inputs[0].name;
  EXPECT_TRUE(inputs[1].values_shape_the_plan) << inputs[1].name;
}

TEST(ShapeArgumentInputsTest, BadShapeValuesAreInvalidArgumentNamingNodeAndValues) {
  auto model = LoadModel(ReshapeModel("reshape_bad_values.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(24);
  RunContext ctx;
  for (const auto& [shape, says] : std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{-2, 12}, "[-2,12]"}, {{5, 5}, "[5,5]"}, {{-1, -1}, "[-1,-1]"}, {{7, -1}, "[7,-1]"}}) {
    const Tensor s = Int64s(shape);
    auto out = (*model)->Run(ctx, {View(x), View(s)});
    ASSERT_FALSE(out.ok()) << says;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
    EXPECT_THAT(out.status().message(), AllOf(HasSubstr("node 'reshape'"), HasSubstr(says)));
  }
  // A failed plan is not cached: good values still work afterwards.
  const Tensor s = Int64s({3, 8});
  ExpectReshaped((*model)->Run(ctx, {View(x), View(s)}), x, {3, 8});
}

TEST(ShapeArgumentInputsTest, ArgumentsLargerThanTheSpecialisationLimitAreRefused) {
  auto model = LoadModel(ReshapeModel("reshape_long_shape.onnx", {1}));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(1);
  RunContext ctx;
  const Tensor at_limit = Int64s(std::vector<int64_t>(64, 1));
  ExpectReshaped((*model)->Run(ctx, {View(x), View(at_limit)}), x, Shape(64, 1));
  const Tensor over = Int64s(std::vector<int64_t>(65, 1));
  auto out = (*model)->Run(ctx, {View(x), View(over)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(out.status().message(), AllOf(HasSubstr("node 'reshape'"), HasSubstr("65 elements"),
                                            HasSubstr("at most 64")));
}

TEST(ShapeArgumentInputsTest, ConcurrentRunsWithDifferentValuesAndFewCachedPlans) {
  LoadOptions options;
  options.max_cached_plans = 2;  // fewer than the values in use: plans are evicted mid-run
  options.threads = 1;
  auto model = LoadModel(ReshapeModel("reshape_concurrent.onnx"), options);
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(24);
  const std::vector<std::vector<int64_t>> shapes = {{4, 6}, {2, 12}, {3, 8}, {2, 2, 6}, {24, 1}};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RunContext ctx;
      for (int i = 0; i < 25; ++i) {
        const std::vector<int64_t>& shape = shapes[(t + i) % shapes.size()];
        const Tensor s = Int64s(shape);
        auto out = (*model)->Run(ctx, {View(x), View(s)});
        bool right = out.ok() && out->size() == 1 && (*out)[0].shape() == Shape(shape);
        for (int64_t e = 0; right && e < 24; ++e) right = (*out)[0].data_as<float>()[e] == e;
        if (!right) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ShapeArgumentInputsTest, SplitSizesFromAGraphInput) {
  onnx::ModelProto m = MakeModel(13);
  auto* g = m.mutable_graph();
  AddInput(g, "x", kFloat, {6});
  AddInput(g, "split", kInt64, {2});
  AddNode(g, "Split", "split_node", {"x", "split"}, {"a", "b"});
  AddInput(g, "a", kFloat, {-1}, /*output=*/true);
  AddInput(g, "b", kFloat, {-1}, /*output=*/true);
  auto model = LoadModel(WriteModel(m, "split_sizes_input.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(6);
  RunContext ctx;
  for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{1, 5}, {4, 2}, {6, 0}, {1, 5}}) {
    const Tensor s = Int64s(sizes);
    auto out = (*model)->Run(ctx, {View(x), View(s)});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ((*out)[0].shape(), Shape{sizes[0]});
    ASSERT_EQ((*out)[1].shape(), Shape{sizes[1]});
    for (int64_t i = 0; i < sizes[0]; ++i) EXPECT_EQ((*out)[0].data_as<float>()[i], i);
    for (int64_t i = 0; i < sizes[1]; ++i) EXPECT_EQ((*out)[1].data_as<float>()[i], sizes[0] + i);
  }
  const Tensor bad = Int64s({7, -1});
  auto out = (*model)->Run(ctx, {View(x), View(bad)});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(out.status().message(), AllOf(HasSubstr("node 'split_node'"), HasSubstr("[7,-1]")));
}

TEST(ShapeArgumentInputsTest, ShapeOutputFeedsReshapeAtPlanTime) {
  onnx::ModelProto m = MakeModel(14);
  auto* g = m.mutable_graph();
  AddInput(g, "x", kFloat, {-1});
  AddInput(g, "like", kFloat, {-1, -1});
  AddNode(g, "Shape", "shape_of_like", {"like"}, {"dims"});
  AddNode(g, "Reshape", "reshape", {"x", "dims"}, {"y"});
  AddInput(g, "y", kFloat, {-1, -1}, /*output=*/true);
  auto model = LoadModel(WriteModel(m, "reshape_to_shape_of.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x = Iota(12);
  RunContext ctx;
  for (const Shape& like_dims : {Shape{3, 4}, Shape{6, 2}, Shape{12, 1}}) {
    const Tensor like(DType::kFloat32, like_dims);
    ExpectReshaped((*model)->Run(ctx, {View(x), View(like)}), x, like_dims);
  }
}

TEST(ShapeArgumentInputsTest, ArgumentsUnknownWhilePlanningAreRefusedAtLoad) {
  {  // computed by an op the engine runs only at run time
    onnx::ModelProto m = MakeModel(14);
    auto* g = m.mutable_graph();
    AddInput(g, "x", kFloat, {24});
    AddInput(g, "shape32", kInt32, {2});
    auto* cast = AddNode(g, "Cast", "to_int64", {"shape32"}, {"shape"});
    auto* to = cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(kInt64);
    AddNode(g, "Reshape", "reshape", {"x", "shape"}, {"y"});
    AddInput(g, "y", kFloat, {-1, -1}, /*output=*/true);
    auto model = LoadModel(WriteModel(m, "reshape_computed_shape.onnx"));
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented) << model.status();
    EXPECT_THAT(model.status().message(),
                AllOf(HasSubstr("node 'reshape'"), HasSubstr("node 'to_int64' (Cast)"),
                      HasSubstr("constant"), HasSubstr("graph input")));
  }
  {  // a graph input of the wrong type (ONNX: shape is int64)
    onnx::ModelProto m = MakeModel(13);
    auto* g = m.mutable_graph();
    AddInput(g, "x", kFloat, {2, 3});
    AddInput(g, "axes", kInt32, {1});
    AddNode(g, "Unsqueeze", "unsqueeze", {"x", "axes"}, {"y"});
    AddInput(g, "y", kFloat, {-1, -1, -1}, /*output=*/true);
    auto model = LoadModel(WriteModel(m, "unsqueeze_int32_axes.onnx"));
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << model.status();
    EXPECT_THAT(model.status().message(),
                AllOf(HasSubstr("node 'unsqueeze'"), HasSubstr("'axes'"), HasSubstr("int64")));
  }
}

// A dim the model fixes at 0 takes an empty tensor (ONNX allows them; the allowzero and
// zero-size split conformance cases need them). Only data-movement ops plan on one:
// regression for a SIGFPE inside oneDNN's matmul set-up when an empty input reached it.
TEST(EmptyTensorsTest, EmptyInputToAnArithmeticOpIsInvalidArgumentNotACrash) {
  onnx::ModelProto m = MakeModel(13);
  auto* g = m.mutable_graph();
  AddInput(g, "x", kFloat, {0, 4});
  q8::testing::AddInitializer<float>(g, "w", kFloat, {4, 3}, std::vector<float>(12, 1.f));
  AddNode(g, "MatMul", "matmul", {"x", "w"}, {"y"});
  AddInput(g, "y", kFloat, {0, 3}, /*output=*/true);
  auto model = LoadModel(WriteModel(m, "matmul_empty_input.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor x(DType::kFloat32, {0, 4});
  RunContext ctx;
  auto out = (*model)->Run(ctx, {View(x)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("node 'matmul'"), HasSubstr("'x' is empty"), HasSubstr("[0,4]")));
  // A run-time dim still needs a positive size.
  onnx::ModelProto r = MakeModel(13);
  AddInput(r.mutable_graph(), "x", kFloat, {-1, 4});
  AddNode(r.mutable_graph(), "Identity", "id", {"x"}, {"y"});
  AddInput(r.mutable_graph(), "y", kFloat, {-1, 4}, /*output=*/true);
  auto identity = LoadModel(WriteModel(r, "identity_runtime_dim.onnx"));
  ASSERT_TRUE(identity.ok()) << identity.status();
  auto refused = (*identity)->Run(ctx, {View(x)});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("any positive size"));
}

}  // namespace
}  // namespace q8::engine
