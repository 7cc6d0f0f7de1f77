// ONNX's own operator conformance cases (../shared/testdata/onnx-node, generated from the
// python3-onnx 1.12 reference implementations). Every case whose ops are all ones the
// engine supports (its kernel registry's ONNX and com.microsoft ops, plus Constant, which
// the importer folds) is named in one of two lists:
//   kCases     the case runs and must reproduce the expected outputs;
//   kExcluded  the case uses a type, opset or output the engine does not support: loading
//              it must fail with UNIMPLEMENTED and a message saying so (`error` below).
// EveryCaseOfASupportedOpIsListed walks the directory, so a new or forgotten case of a
// supported op (or any unlisted case that loads) fails the build's tests instead of going
// unrun; a listed case whose directory is missing fails too. To see which ops each case
// uses without building: /usr/bin/python3 tests/engine/onnx_node_audit.py.
//
// Tolerances: float32 outputs |got - want| <= 1e-5 + 1e-5·|want| (oneDNN sums in a
// different order than numpy). Integer outputs (uint8, int8, int32, int64, bool) exactly,
// except QLinearMatMul (test_qlinearmatmul_2D / _3D), whose spec computes the rescale in
// float: ±1 unit where a value lands on a rounding edge. Output dtype and shape always
// exactly.
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "engine/dnnl/kernel.h"
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
    // Transformer, layout, math and dynamic-quantization ops.
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
    // clip_kernel.cc).
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
    {"test_averagepool_2d_strides"}, {"test_averagepool_3d_default"}, {"test_clip"},
    {"test_clip_default_inbounds"},
    {"test_clip_default_int8_inbounds"}, {"test_clip_default_int8_max"},
    {"test_clip_default_int8_min"}, {"test_clip_default_max"}, {"test_clip_default_min"},
    {"test_clip_example"}, {"test_clip_inbounds"}, {"test_clip_outbounds"},
    {"test_clip_splitbounds"},
    // Shape, axes and split sizes fed as graph inputs (not initializers): plans are
    // specialised on those values (BuiltKernel::value_inputs). test_reshape_allowzero_reordered
    // and test_split_zero_size_splits also take empty tensors (a declared dim of 0).
    {"test_reshape_allowzero_reordered"}, {"test_reshape_extended_dims"},
    {"test_reshape_negative_dim"}, {"test_reshape_negative_extended_dims"},
    {"test_reshape_one_dim"}, {"test_reshape_reduced_dims"},
    {"test_reshape_reordered_all_dims"}, {"test_reshape_reordered_last_dims"},
    {"test_reshape_zero_and_negative_dim"}, {"test_reshape_zero_dim"},
    {"test_split_variable_parts_1d"}, {"test_split_variable_parts_2d"},
    {"test_split_variable_parts_default_axis"}, {"test_split_zero_size_splits"},
    {"test_squeeze"}, {"test_squeeze_negative_axes"}, {"test_unsqueeze_axis_0"},
    {"test_unsqueeze_axis_1"}, {"test_unsqueeze_axis_2"}, {"test_unsqueeze_negative_axes"},
    {"test_unsqueeze_three_axes"}, {"test_unsqueeze_two_axes"},
    {"test_unsqueeze_unsorted_axes"},
    // Opset-1 models (the only version of these ops): the importer takes old opsets op by
    // op (engine/import/onnx_op_versions.cc).
    {"test_globalaveragepool"}, {"test_globalaveragepool_precomputed"}, {"test_globalmaxpool"},
    {"test_globalmaxpool_precomputed"},
    // Pow with an exponent of another type than the base (opset 15 T / T1).
    // ReduceMean, and MeanVarianceNormalization spelled with it (as exporters spell
    // normalisations): (x - mean) / sqrt(mean((x - mean)^2)) over N, H, W.
    {"test_reduce_mean_default_axes_keepdims_example"},
    {"test_reduce_mean_default_axes_keepdims_random"}, {"test_reduce_mean_do_not_keepdims_example"},
    {"test_reduce_mean_do_not_keepdims_random"}, {"test_reduce_mean_keepdims_example"},
    {"test_reduce_mean_keepdims_random"}, {"test_reduce_mean_negative_axes_keepdims_example"},
    {"test_reduce_mean_negative_axes_keepdims_random"}, {"test_mvn_expanded"},
    {"test_pow_types_float32_int32"}, {"test_pow_types_float32_int64"},
    {"test_pow_types_int32_float32"}, {"test_pow_types_int64_float32"},
};

// Cases of supported ops the engine refuses, each with why and a fragment its load error
// must contain (so the refusal stays a clear message, not an accident).
struct Excluded {
  const char* name;
  const char* error;   // substring of LoadModel's UNIMPLEMENTED message
  const char* reason;  // why the case cannot run
};

// clang-format off
const Excluded kExcluded[] = {
    // Cast between types the engine has no tensors for (float16, bfloat16, double, string).
    {"test_cast_BFLOAT16_to_FLOAT", "element type BFLOAT16", "bfloat16 input"},
    {"test_cast_DOUBLE_to_FLOAT", "element type DOUBLE", "float64 input"},
    {"test_cast_DOUBLE_to_FLOAT16", "element type DOUBLE", "float64 input, float16 output"},
    {"test_cast_FLOAT16_to_DOUBLE", "element type FLOAT16", "float16 input, float64 output"},
    {"test_cast_FLOAT16_to_FLOAT", "element type FLOAT16", "float16 input"},
    {"test_cast_FLOAT_to_BFLOAT16", "Cast to BFLOAT16", "bfloat16 output"},
    {"test_cast_FLOAT_to_DOUBLE", "Cast to DOUBLE", "float64 output"},
    {"test_cast_FLOAT_to_FLOAT16", "Cast to FLOAT16", "float16 output"},
    {"test_cast_FLOAT_to_STRING", "Cast to STRING", "string output"},
    {"test_cast_STRING_to_FLOAT", "element type STRING", "string input"},
    // CastLike expanded to Cast: the same types, plus a `like` input of the target type.
    {"test_castlike_BFLOAT16_to_FLOAT_expanded", "element type BFLOAT16", "bfloat16 input"},
    {"test_castlike_DOUBLE_to_FLOAT16_expanded", "element type DOUBLE",
     "float64 input, float16 like"},
    {"test_castlike_DOUBLE_to_FLOAT_expanded", "element type DOUBLE", "float64 input"},
    {"test_castlike_FLOAT16_to_DOUBLE_expanded", "element type FLOAT16",
     "float16 input, float64 like"},
    {"test_castlike_FLOAT16_to_FLOAT_expanded", "element type FLOAT16", "float16 input"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", "element type BFLOAT16", "bfloat16 like"},
    {"test_castlike_FLOAT_to_DOUBLE_expanded", "element type DOUBLE", "float64 like"},
    {"test_castlike_FLOAT_to_FLOAT16_expanded", "element type FLOAT16", "float16 like"},
    {"test_castlike_FLOAT_to_STRING_expanded", "element type STRING", "string like"},
    {"test_castlike_STRING_to_FLOAT_expanded", "element type STRING", "string input"},
    // Not tensors: Identity of an optional / a sequence.
    {"test_identity_opt", "is an optional", "optional-typed input"},
    {"test_identity_sequence", "is a sequence", "sequence-typed input"},
    // MaxPool's second output (argmax Indices) is not implemented.
    {"test_maxpool_with_argmax_2d_precomputed_pads", "MaxPool's Indices output", "Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "storage_order = 1",
     "Indices output, column-major (storage_order 1)"},
    // Unsigned exponents wider than 8 bits: no uint32 / uint64 tensors.
    {"test_pow_types_float32_uint32", "element type UINT32", "uint32 exponent"},
    {"test_pow_types_float32_uint64", "element type UINT64", "uint64 exponent"},
};
// clang-format on

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

std::string CaseDir(const std::string& name) {
  return q8::testing::SharedDir() + "/testdata/onnx-node/" + name;
}

class OnnxConformanceTest : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxConformanceTest, MatchesExpectedOutputs) {
  const Case& c = GetParam();
  const std::string dir = CaseDir(c.name);
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
      const double tol =
          got.dtype() == DType::kFloat32 ? 1e-5 + 1e-5 * std::abs(w) : c.int_tolerance;
      ASSERT_LE(std::abs(g - w), tol) << "output " << o << " element " << i;
    }
  }
}

// Registry keys of the ops a user can put in a model (internal q8.* ops excluded), plus
// Constant, which the importer turns into a constant itself.
std::set<std::string> SupportedOps() {
  std::set<std::string> ops = {"Constant"};
  for (const auto& [key, _] : dnnl_backend::KernelRegistry()) {
    if (key.rfind("q8.", 0) != 0) ops.insert(key);
  }
  return ops;
}

// The op keys (domain-qualified as the registry's are) a case's model uses.
std::set<std::string> OpsOf(const std::string& model_path) {
  std::ifstream f(model_path, std::ios::binary);
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&f)) return {"<unparsable model.onnx>"};
  std::set<std::string> ops;
  for (const auto& n : model.graph().node()) {
    ops.insert(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type()
                                                             : n.domain() + "." + n.op_type());
  }
  return ops;
}

TEST(OnnxConformanceListsTest, EveryCaseOfASupportedOpIsListed) {
  std::set<std::string> listed;
  for (const Case& c : kCases) {
    EXPECT_TRUE(listed.insert(c.name).second) << c.name << " listed twice";
  }
  for (const Excluded& e : kExcluded) {
    EXPECT_TRUE(listed.insert(e.name).second) << e.name << " listed twice (or in both lists)";
  }
  const std::set<std::string> supported = SupportedOps();
  const std::string root = q8::testing::SharedDir() + "/testdata/onnx-node";
  ASSERT_TRUE(std::filesystem::is_directory(root)) << "missing test material: " << root;
  int cases = 0, of_supported_ops = 0;
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    const std::string model = entry.path().string() + "/model.onnx";
    if (!std::filesystem::exists(model)) continue;
    ++cases;
    found.insert(name);
    const std::set<std::string> ops = OpsOf(model);
    const bool only_supported =
        std::includes(supported.begin(), supported.end(), ops.begin(), ops.end());
    of_supported_ops += only_supported;
    if (listed.count(name)) continue;
    EXPECT_FALSE(only_supported)
        << name << " uses only supported ops (" << absl::StrJoin(ops, ", ")
        << ") but is in neither kCases nor kExcluded: run it, or exclude it with its reason";
    EXPECT_FALSE(LoadModel(model).ok())
        << name << " (" << absl::StrJoin(ops, ", ") << ") loads but is in neither list";
  }
  for (const std::string& name : listed) {
    EXPECT_TRUE(found.count(name)) << "listed case " << name << " has no " << root << "/" << name
                                   << "/model.onnx";
  }
  // The material is ONNX 1.12's node tests: if it shrinks, the walk above proves little.
  EXPECT_GE(cases, 900) << "cases found in " << root;
  EXPECT_EQ(of_supported_ops, static_cast<int>(std::size(kCases) + std::size(kExcluded)));
  std::cout << cases << " cases, " << of_supported_ops << " of supported ops: " << std::size(kCases)
            << " run, " << std::size(kExcluded) << " excluded\n";
}

class OnnxConformanceExcludedTest : public ::testing::TestWithParam<Excluded> {};

TEST_P(OnnxConformanceExcludedTest, LoadFailsSayingWhy) {
  const Excluded& e = GetParam();
  auto model = LoadModel(q8::testing::RequireFile(CaseDir(e.name) + "/model.onnx"));
  ASSERT_FALSE(model.ok()) << e.name << " now loads: move it to kCases (excluded for: " << e.reason
                           << ")";
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented) << model.status();
  EXPECT_NE(model.status().message().find(e.error), std::string::npos)
      << "load error of " << e.name << " should say '" << e.error << "': " << model.status();
}

INSTANTIATE_TEST_SUITE_P(Excluded, OnnxConformanceExcludedTest, ::testing::ValuesIn(kExcluded),
                         [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(Supported, OnnxConformanceTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace q8::engine
