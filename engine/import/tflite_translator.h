// Internal to the TFLite importer: the state of one translation (TFLite tensors → IR
// values) and the helpers op translators use. tflite_importer.cc reads and checks the file
// and drives the translation; tflite_ops.cc holds one translator per builtin op.
// Not thread-safe; one Translator per import.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/import/tflite_schema_generated.h"
#include "engine/ir/graph.h"

namespace q8::engine::tflite {

// One TFLite tensor as the importer sees it.
struct TfTensor {
  int index = -1;
  std::string name;       // unique IR name (the file's name, or a generated one)
  std::string file_name;  // as in the file ("" when unnamed)
  DType dtype = DType::kUnknown;
  bool int16 = false;  // TFLite INT16 (LSTM cell state only; no IR dtype)
  Shape shape;         // TFLite order (NHWC for 4-D activations)
  // Affine parameters, TFLite's own axis (already corrected for the 1-D bias quirk).
  std::optional<QuantParams> quant;
  const uint8_t* data = nullptr;  // constant contents (nullptr: runtime tensor)
  size_t data_size = 0;
  // IR values holding this tensor: in TFLite order, and the NCHW twin of a 4-D tensor.
  // Either may be empty until first needed.
  std::string value, nchw_value;
};

class Translator;
// Translates one operator. `op_index` and the op name are for messages.
using OpTranslator = absl::Status (*)(Translator& t, const tflite_fb::Operator& op);

// The builtin ops the importer translates: code → (name, translator).
struct BuiltinOp {
  const char* name;
  OpTranslator translate;
};
const std::map<int, BuiltinOp>& BuiltinOps();
// Public name of a builtin code ("CONV_2D"); "BUILTIN_<code>" for codes we do not name.
std::string BuiltinName(int code);

class Translator {
 public:
  Translator(std::string path, std::vector<TfTensor> tensors)
      : path_(std::move(path)), tensors_(std::move(tensors)) {}

  ir::Graph& graph() { return graph_; }
  TfTensor& tensor(int index) { return tensors_[static_cast<size_t>(index)]; }
  int num_tensors() const { return static_cast<int>(tensors_.size()); }

  // The operator being translated, for messages and node names.
  void BeginOp(int index, std::string name) {
    op_index_ = index;
    op_name_ = std::move(name);
    node_count_ = 0;
  }
  // "<file>: operator #12 (CONV_2D)".
  std::string Where() const;
  absl::Status Invalid(const std::string& what) const;
  absl::Status Unimplemented(const std::string& what) const;

  // Input i of `op` (-1 when omitted or out of range) / output i.
  static int Input(const tflite_fb::Operator& op, size_t i);
  static int Output(const tflite_fb::Operator& op, size_t i);

  // Marks a float op of a QDQ chain (Add, Sub, Mul, AveragePool, GlobalAveragePool, the
  // Identity of an int8 QUANTIZE) as computed with TFLite's integer arithmetic, which
  // passes::FoldTfliteInt8 then gives it (quant/tflite_arith.h).
  static void MarkTfliteArithmetic(ir::Node& n) {
    n.attrs["quant_arithmetic"] = std::string("tflite");
  }
  // Emits a node named after the operator; returns it for attributes.
  ir::Node& Emit(const std::string& op_type, std::vector<std::string> inputs,
                 std::vector<std::string> outputs, const std::string& domain = "");
  // A fresh value name derived from `base`.
  std::string Fresh(const std::string& base);
  // Adds an IR constant; returns its name.
  std::string Constant(const std::string& name, Tensor value);
  std::string Int64Constant(const std::string& name, const std::vector<int64_t>& values);
  std::string FloatConstant(const std::string& name, const std::vector<float>& values);

  // The tensor in TFLite order / as its NCHW twin (4-D only), creating constants and
  // Transposes as needed.
  absl::StatusOr<std::string> Value(int t);
  absl::StatusOr<std::string> NchwValue(int t);
  bool HasNchw(int t) const { return !tensors_[static_cast<size_t>(t)].nchw_value.empty(); }

  // The real (float) value of `value`, which holds tensor t (quantized: a DequantizeLinear
  // with t's parameters; float: `value` itself). `axis` overrides t's per-channel axis.
  absl::StatusOr<std::string> Real(const std::string& value, int t, std::optional<int> axis = {});
  // Real(Value(t)) / Real(NchwValue(t)).
  absl::StatusOr<std::string> RealValue(int t);
  absl::StatusOr<std::string> RealNchw(int t);

  // Where a float result for output tensor t goes: returns the value name the float op
  // writes; FinishOutput then applies the fused activation and, for a quantized t, the
  // QuantizeLinear into t's value (TFLite order) or NCHW twin.
  std::string FloatOutput(int t, tflite_fb::ActivationFunctionType activation, bool nchw);
  absl::Status FinishOutput(int t, const std::string& float_value,
                            tflite_fb::ActivationFunctionType activation, bool nchw);

  // The constant contents of tensor t as int64 values (int32/int64 tensors); error if t
  // is not a constant.
  absl::StatusOr<std::vector<int64_t>> ConstInts(int t);
  // A constant quantized weight tensor dequantized to float (per its parameters).
  absl::StatusOr<std::vector<float>> DequantizedConstant(int t);

  // Recorded for later: PAD ops folded into the convolution that reads their output.
  struct FoldedPad {
    int input = -1;             // the PAD's input tensor
    std::vector<int64_t> pads;  // [before, after] per TFLite dim (8 values for 4-D)
  };
  std::unordered_map<int, FoldedPad>& folded_pads() { return folded_pads_; }
  // Who reads each tensor: (operator index, input slot) pairs; whether it is a graph output.
  std::vector<std::vector<std::pair<int, size_t>>>& readers() { return readers_; }
  std::vector<bool>& is_graph_output() { return is_graph_output_; }
  // Builtin code of each operator (-1 for custom ops).
  std::vector<int>& op_codes() { return op_codes_; }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  std::string ScaleConstant(int t);
  std::string ZeroPointConstant(int t);

  const std::string path_;
  std::vector<TfTensor> tensors_;
  ir::Graph graph_;
  int op_index_ = -1;
  std::string op_name_;
  int node_count_ = 0;
  std::unordered_map<std::string, int> fresh_;
  std::unordered_map<std::string, std::string> real_;  // value (+axis) → its DQ output
  std::unordered_map<int, FoldedPad> folded_pads_;
  std::vector<std::vector<std::pair<int, size_t>>> readers_;
  std::vector<bool> is_graph_output_;
  std::vector<int> op_codes_;
  std::vector<std::string> warnings_;
};

// Shape helpers.
Shape NhwcToNchw(const Shape& s);  // [N,H,W,C] → [N,C,H,W]

}  // namespace q8::engine::tflite
