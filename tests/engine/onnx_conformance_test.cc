// ONNX's own operator conformance cases (../shared/testdata/onnx-node, generated from the
// python3-onnx 1.12 reference implementations): every case of an op the engine supports
// runs here and must reproduce the expected outputs.
//
// Tolerances: float32 outputs |got - want| <= 1e-5 + 1e-5·|want| (oneDNN sums in a
// different order than numpy); integer outputs exactly, except QLinearMatMul, whose
// spec computes the rescale in float: ±1 unit where a value lands on a rounding edge.
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/engine.h"
#include "engine/import/onnx_importer.h"
#include "tests/common/test_env.h"

namespace q8::engine {
namespace {

struct Case {
  const char* name;
  int int_tolerance = 0;
};

// Cases are named explicitly (not globbed) so a case that stops being found fails.
const Case kCases[] = {
    {"test_quantizelinear"}, {"test_quantizelinear_axis"}, {"test_dequantizelinear"},
    {"test_dequantizelinear_axis"}, {"test_qlinearmatmul_2D", 1}, {"test_qlinearmatmul_3D", 1},
    {"test_matmulinteger"}, {"test_relu"}, {"test_gemm_all_attributes"}, {"test_gemm_alpha"},
    {"test_gemm_beta"}, {"test_gemm_default_matrix_bias"}, {"test_gemm_default_no_bias"},
    {"test_gemm_default_scalar_bias"}, {"test_gemm_default_single_elem_vector_bias"},
    {"test_gemm_default_vector_bias"}, {"test_gemm_default_zero_bias"},
    {"test_gemm_transposeA"}, {"test_gemm_transposeB"}, {"test_matmul_2d"}, {"test_matmul_3d"},
    {"test_matmul_4d"}, {"test_add"}, {"test_add_bcast"}, {"test_add_uint8"}, {"test_mul"},
    {"test_mul_bcast"}, {"test_mul_example"}, {"test_mul_uint8"}, {"test_identity"},
    {"test_flatten_axis0"}, {"test_flatten_axis1"}, {"test_flatten_axis2"},
    {"test_flatten_axis3"}, {"test_flatten_default_axis"}, {"test_flatten_negative_axis1"},
    {"test_flatten_negative_axis2"}, {"test_flatten_negative_axis3"},
    {"test_flatten_negative_axis4"},
};

absl::StatusOr<Tensor> ReadTensorPb(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(path);
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(ss.str())) return absl::InvalidArgumentError(path);
  return TensorFromOnnx(proto);
}

double ValueAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return t.data_as<float>()[i];
    case DType::kUint8: return t.data_as<uint8_t>()[i];
    case DType::kInt8: return t.data_as<int8_t>()[i];
    case DType::kInt32: return t.data_as<int32_t>()[i];
    case DType::kInt64: return static_cast<double>(t.data_as<int64_t>()[i]);
    case DType::kBool: return t.data_as<uint8_t>()[i];
    default: return NAN;
  }
}

class OnnxConformanceTest : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxConformanceTest, MatchesExpectedOutputs) {
  const Case& c = GetParam();
  const std::string dir = q8::testing::SharedDir() + "/testdata/onnx-node/" + c.name;
  auto model = LoadModel(q8::testing::RequireFile(dir + "/model.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelInfo& info = (*model)->info();

  std::vector<Tensor> inputs;
  std::vector<TensorView> views;
  for (size_t i = 0; i < info.inputs.size(); ++i) {
    auto t = ReadTensorPb(q8::testing::RequireFile(
        dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb"));
    ASSERT_TRUE(t.ok()) << t.status();
    views.push_back({t->dtype(), t->shape(), t->data()});
    inputs.push_back(std::move(*t));
  }
  RunContext ctx;
  auto outputs = (*model)->Run(ctx, views);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), info.outputs.size());
  for (size_t o = 0; o < outputs->size(); ++o) {
    auto want = ReadTensorPb(q8::testing::RequireFile(
        dir + "/test_data_set_0/output_" + std::to_string(o) + ".pb"));
    ASSERT_TRUE(want.ok()) << want.status();
    const Tensor& got = (*outputs)[o];
    ASSERT_EQ(got.dtype(), want->dtype()) << "output " << o;
    ASSERT_EQ(got.shape(), want->shape()) << "output " << o;
    for (int64_t i = 0; i < got.num_elements(); ++i) {
      const double g = ValueAt(got, i), w = ValueAt(*want, i);
      const double tol = got.dtype() == DType::kFloat32 ? 1e-5 + 1e-5 * std::abs(w) : c.int_tolerance;
      ASSERT_LE(std::abs(g - w), tol) << "output " << o << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Supported, OnnxConformanceTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace q8::engine
