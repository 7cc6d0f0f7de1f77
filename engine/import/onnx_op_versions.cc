#include "engine/import/onnx_op_versions.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::engine {

// since_versions from onnx 1.12's schema history (onnx.defs.get_all_schemas_with_history).
// oldest_implemented is lower than the version opset 10 selects only where the older
// definition means the same for every model it accepts:
//   Conv, MatMul, Transpose, Flatten, Identity, Shape, Constant, ReduceMean 1: same
//     semantics (later versions add types or negative axes).
//   MaxPool 1 / 8, AveragePool 1 / 7: no ceil_mode, dilations, count_include_pad or Indices
//     output yet; their defaults are the old behaviour.
//   Squeeze, Unsqueeze 1: axes as an attribute, non-negative (11 allows negative).
//   Softmax 1: the same 2-D coercion as 11 (the importer marks it, see onnx_importer.cc).
//   Concat 4: axis required (1 defaulted it to 1; not implemented).
//   Split 2: split / axis attributes as in 11 (1 could take split as an input).
//   Relu, Sigmoid, Tanh, Sqrt, Cast, Clip 6: version 1 had consumed_inputs, Cast 1 a string
//     `to`, Clip 1 the same; 6 removed them.
//   Add, Sub, Mul, Div, Pow, Gemm 7: numpy broadcasting; 1 / 6 had the legacy
//     broadcast/axis attributes, which the kernels do not read.
//   Reshape 5: shape as an input (1 took it as an attribute).
const std::vector<OnnxOpVersions>& OnnxOpVersionTable() {
  static const auto* table = new std::vector<OnnxOpVersions>{
      {"Add", {1, 6, 7, 13, 14}, 7},
      {"AveragePool", {1, 7, 10, 11}, 1},
      {"Cast", {1, 6, 9, 13}, 6},
      {"Clip", {1, 6, 11, 12, 13}, 6},
      {"Concat", {1, 4, 11, 13}, 4},
      {"Constant", {1, 9, 11, 12, 13}, 1},
      {"Conv", {1, 11}, 1},
      {"ConvInteger", {10}, 10},
      {"DequantizeLinear", {10, 13}, 10},
      {"Div", {1, 6, 7, 13, 14}, 7},
      {"DynamicQuantizeLinear", {11}, 11},
      {"Erf", {9, 13}, 9},
      {"Flatten", {1, 9, 11, 13}, 1},
      {"Gemm", {1, 6, 7, 9, 11, 13}, 7},
      {"GlobalAveragePool", {1}, 1},
      {"GlobalMaxPool", {1}, 1},
      {"Identity", {1, 13, 14, 16}, 1},
      {"LayerNormalization", {17}, 17},
      {"MatMul", {1, 9, 13}, 1},
      {"MatMulInteger", {10}, 10},
      {"MaxPool", {1, 8, 10, 11, 12}, 1},
      {"Mul", {1, 6, 7, 13, 14}, 7},
      {"Pow", {1, 7, 12, 13, 15}, 7},
      {"QLinearConv", {10}, 10},
      {"QLinearMatMul", {10}, 10},
      {"QuantizeLinear", {10, 13}, 10},
      {"ReduceMean", {1, 11, 13}, 1},
      {"Relu", {1, 6, 13, 14}, 6},
      {"Reshape", {1, 5, 13, 14}, 5},
      {"Shape", {1, 13, 15}, 1},
      {"Sigmoid", {1, 6, 13}, 6},
      {"Softmax", {1, 11, 13}, 1},
      {"Split", {1, 2, 11, 13}, 2},
      {"Sqrt", {1, 6, 13}, 6},
      {"Squeeze", {1, 11, 13}, 1},
      {"Sub", {1, 6, 7, 13, 14}, 7},
      {"Tanh", {1, 6, 13}, 6},
      {"Transpose", {1, 13}, 1},
      {"Unsqueeze", {1, 11, 13}, 1},
  };
  return *table;
}

const OnnxOpVersions* FindOnnxOpVersions(const std::string& op_type) {
  for (const auto& op : OnnxOpVersionTable()) {
    if (op_type == op.op_type) return &op;
  }
  return nullptr;
}

std::optional<int> OnnxOpVersionInOpset(const OnnxOpVersions& op, int64_t opset) {
  std::optional<int> version;
  for (int v : op.since_versions) {
    if (v <= opset) version = v;
  }
  return version;
}

absl::Status CheckOnnxOpVersion(const std::string& op_type, int64_t opset) {
  const OnnxOpVersions* op = FindOnnxOpVersions(op_type);
  if (op == nullptr) return absl::OkStatus();
  const std::optional<int> version = OnnxOpVersionInOpset(*op, opset);
  if (!version) {
    return absl::InvalidArgumentError(absl::StrCat(op_type, " does not exist in opset ", opset,
                                                   " (ONNX added it in opset ",
                                                   op->since_versions.front(), ")"));
  }
  if (*version < op->oldest_implemented) {
    return absl::UnimplementedError(absl::StrCat(
        "opset ", opset, " selects ", op_type, " version ", *version,
        ", whose semantics the engine does not implement (it implements versions ",
        absl::StrJoin(std::vector<int>(std::find(op->since_versions.begin(),
                                                 op->since_versions.end(),
                                                 op->oldest_implemented),
                                       op->since_versions.end()),
                      ", "),
        "); re-export the model with opset >= ", op->oldest_implemented));
  }
  return absl::OkStatus();
}

}  // namespace q8::engine
