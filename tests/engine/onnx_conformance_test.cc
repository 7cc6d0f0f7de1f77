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
    // Transformer, layout, math and dynamic-quantization ops. Not listed: the Reshape,
    // Squeeze, Unsqueeze and variable-Split cases, which feed shape / axes / split as graph
    // inputs: the engine plans shapes before it reads values, so those must be constants.
    {"test_concat_1d_axis_0"}, {"test_concat_1d_axis_negative_1"}, {"test_concat_2d_axis_0"},
    {"test_concat_2d_axis_1"}, {"test_concat_2d_axis_negative_1"},
    {"test_concat_2d_axis_negative_2"}, {"test_concat_3d_axis_0"}, {"test_concat_3d_axis_1"},
    {"test_concat_3d_axis_2"}, {"test_concat_3d_axis_negative_1"},
    {"test_concat_3d_axis_negative_2"}, {"test_concat_3d_axis_negative_3"}, {"test_constant"},
    {"test_div"}, {"test_div_bcast"}, {"test_div_example"}, {"test_div_uint8"},
    {"test_dynamicquantizelinear"}, {"test_dynamicquantizelinear_max_adjusted"},
    {"test_dynamicquantizelinear_min_adjusted"}, {"test_erf"},
    {"test_layer_normalization_2d_axis0"}, {"test_layer_normalization_2d_axis1"},
    {"test_layer_normalization_2d_axis_negative_1"},
    {"test_layer_normalization_2d_axis_negative_2"},
    {"test_layer_normalization_3d_axis0_epsilon"},
    {"test_layer_normalization_3d_axis1_epsilon"},
    {"test_layer_normalization_3d_axis2_epsilon"},
    {"test_layer_normalization_3d_axis_negative_1_epsilon"},
    {"test_layer_normalization_3d_axis_negative_2_epsilon"},
    {"test_layer_normalization_3d_axis_negative_3_epsilon"},
    {"test_layer_normalization_4d_axis0"}, {"test_layer_normalization_4d_axis1"},
    {"test_layer_normalization_4d_axis2"}, {"test_layer_normalization_4d_axis3"},
    {"test_layer_normalization_4d_axis_negative_1"},
    {"test_layer_normalization_4d_axis_negative_2"},
    {"test_layer_normalization_4d_axis_negative_3"},
    {"test_layer_normalization_4d_axis_negative_4"}, {"test_layer_normalization_default_axis"},
    {"test_pow"}, {"test_pow_bcast_array"}, {"test_pow_bcast_scalar"}, {"test_pow_example"},
    {"test_pow_types_int32_int32"}, {"test_pow_types_int64_int64"}, {"test_shape"},
    {"test_shape_clip_end"}, {"test_shape_clip_start"}, {"test_shape_end_1"},
    {"test_shape_end_negative_1"}, {"test_shape_example"}, {"test_shape_start_1"},
    {"test_shape_start_1_end_2"}, {"test_shape_start_1_end_negative_1"},
    {"test_shape_start_negative_1"}, {"test_sigmoid"}, {"test_sigmoid_example"},
    {"test_softmax_axis_0"}, {"test_softmax_axis_1"}, {"test_softmax_axis_2"},
    {"test_softmax_default_axis"}, {"test_softmax_example"}, {"test_softmax_large_number"},
    {"test_softmax_negative_axis"}, {"test_split_equal_parts_1d"},
    {"test_split_equal_parts_2d"}, {"test_split_equal_parts_default_axis"}, {"test_sqrt"},
    {"test_sqrt_example"}, {"test_sub"}, {"test_sub_bcast"}, {"test_sub_example"},
    {"test_sub_uint8"}, {"test_tanh"}, {"test_tanh_example"},
    {"test_transpose_all_permutations_0"}, {"test_transpose_all_permutations_1"},
    {"test_transpose_all_permutations_2"}, {"test_transpose_all_permutations_3"},
    {"test_transpose_all_permutations_4"}, {"test_transpose_all_permutations_5"},
    {"test_transpose_default"},
    // Convolution, pooling and Clip (conv_kernels.cc, conv_integer_kernel.cc, pool_kernels.cc,
    // clip_kernel.cc). Not listed: test_globalaveragepool*, test_globalmaxpool* (opset 1,
    // which the importer refuses), test_maxpool_with_argmax_* (the Indices output).
    {"test_basic_conv_with_padding"}, {"test_basic_conv_without_padding"},
    {"test_conv_with_autopad_same"}, {"test_conv_with_strides_and_asymmetric_padding"},
    {"test_conv_with_strides_no_padding"}, {"test_conv_with_strides_padding"},
    {"test_convinteger_with_padding"}, {"test_convinteger_without_padding"},
    {"test_qlinearconv"}, {"test_maxpool_1d_default"}, {"test_maxpool_2d_ceil"},
    {"test_maxpool_2d_default"}, {"test_maxpool_2d_dilations"}, {"test_maxpool_2d_pads"},
    {"test_maxpool_2d_precomputed_pads"}, {"test_maxpool_2d_precomputed_same_upper"},
    {"test_maxpool_2d_precomputed_strides"}, {"test_maxpool_2d_same_lower"},
    {"test_maxpool_2d_same_upper"}, {"test_maxpool_2d_strides"}, {"test_maxpool_2d_uint8"},
    {"test_maxpool_3d_default"}, {"test_averagepool_1d_default"}, {"test_averagepool_2d_ceil"},
    {"test_averagepool_2d_default"}, {"test_averagepool_2d_pads"},
    {"test_averagepool_2d_pads_count_include_pad"}, {"test_averagepool_2d_precomputed_pads"},
    {"test_averagepool_2d_precomputed_pads_count_include_pad"},
    {"test_averagepool_2d_precomputed_same_upper"}, {"test_averagepool_2d_precomputed_strides"},
    {"test_averagepool_2d_same_lower"}, {"test_averagepool_2d_same_upper"},
    {"test_averagepool_2d_strides"}, {"test_averagepool_3d_default"}, {"test_clip"}, {"test_clip_default_inbounds"},
    {"test_clip_default_int8_inbounds"}, {"test_clip_default_int8_max"},
    {"test_clip_default_int8_min"}, {"test_clip_default_max"}, {"test_clip_default_min"},
    {"test_clip_example"}, {"test_clip_inbounds"}, {"test_clip_outbounds"},
    {"test_clip_splitbounds"},
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
