// Internal to the GraphDef importer: what a TF tensor became in the IR (TfValue), the
// per-node view handlers use to read inputs and emit IR (OpContext), and the handler
// table (graphdef_ops.cc). Not thread-safe; one importer run owns one of each.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/ir/graph.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace q8::engine::graphdef {

// A constant quantized at import time (FakeQuant of a weight): real = scale[c]·(q - zp[c])
// along the last axis (`per_channel`) or per tensor; q is uint8 (TF's levels
// q_min..q_max), zp the nudged zero point. The conv / matmul that reads it splits off an
// asymmetric zero point exactly (QuantizedWeights in graphdef_ops.cc).
struct QuantizedConst {
  std::shared_ptr<const Tensor> q;
  std::vector<float> scales;
  std::vector<int32_t> zps;
  bool per_channel = false;
};

// What one TF tensor became.
struct TfValue {
  std::string ir;                 // IR value ("" when the tensor exists only at import time)
  DType dtype = DType::kUnknown;  // of the IR value
  int rank = -1;                  // TF rank, -1 unknown
  bool nchw = false;              // a rank-4 NHWC TF tensor held in the IR as NCHW
  bool real_qint32 = false;       // a qint32 TF tensor held as its real (float) value
  std::optional<std::vector<float>> floats;  // value known at import time (min/max, consts)
  std::shared_ptr<QuantizedConst> qconst;    // FakeQuant'd constant, not yet emitted
  int conv_node = -1;  // IR Conv producing `ir` with no bias yet (BiasAdd folds into it)
  std::vector<int64_t> pending_pads;  // Pad not yet applied: NHWC [begin..., end...]
  std::string pad_source_tf;          // the TF tensor the pending Pad pads
  // Run-time quantization (quantize_graph's dynamic ranges): Min/Max over all elements of
  // IR value `reduce_of` ('m' = Min, 'M' = Max), evaluated only by a QuantizeV2 reading
  // both; `flat_of` is the IR value a Reshape to [-1] flattened; a dynamically quantized
  // uint8 value carries its run-time scale and zero point IR values.
  std::string reduce_of, flat_of;
  char reduce_kind = 0;
  std::string dyn_scale, dyn_zp;
};

class Importer;

// The view a handler gets of the node it translates.
class OpContext {
 public:
  OpContext(Importer& importer, const tensorflow::NodeDef& node) : im_(importer), node_(node) {}
  const tensorflow::NodeDef& node() const { return node_; }
  const std::string& name() const { return node_.name(); }
  int num_inputs() const;  // data inputs (control inputs excluded)

  // Data input i as imported so far. Errors when i is out of range.
  absl::StatusOr<TfValue> Input(int i) const;
  // Input i's value known at import time (a Const or a folded min/max), else an error
  // saying which input must be constant.
  absl::StatusOr<std::vector<float>> ConstFloats(int i, const char* what) const;
  absl::StatusOr<float> ConstScalar(int i, const char* what) const;
  absl::StatusOr<std::vector<int64_t>> ConstInts(int i, const char* what) const;
  // The input's constant tensor, or nullptr.
  const Tensor* ConstTensor(const TfValue& v) const;

  // The IR value holding v in TF's own element order (NHWC for rank 4) or as NCHW;
  // inserts (and memoises) a Transpose when the held layout differs.
  absl::StatusOr<std::string> Nhwc(const TfValue& v);
  absl::StatusOr<std::string> Nchw(const TfValue& v);

  // Emits a data-movement op (`op` on `in`, plus `extra` inputs) writing `out`. When `in`
  // is a per-tensor DequantizeLinear's output, the op moves the quantized bytes instead and
  // a DequantizeLinear with the same parameters follows (exact: per-tensor dequantization
  // is element-wise, and for MaxPool monotonic), so DQ stays next to the op that reads it
  // and the QDQ passes can fold it.
  void MoveData(const std::string& op, const std::string& in, std::vector<std::string> extra,
                std::map<std::string, ir::Attribute> attrs, const std::string& out,
                const std::string& node_name = "");

  // Adds an IR constant named `name` (made unique) and returns its name.
  std::string AddConst(const std::string& name, Tensor t);
  std::string AddFloatConst(const std::string& name, std::vector<float> values, Shape shape);
  std::string AddInt64Const(const std::string& name, std::vector<int64_t> values);
  std::string AddScalar(const std::string& name, float value);
  std::string AddZeroPoint(const std::string& name, DType storage, int32_t zp);
  // Emits an IR node; returns its index.
  int Emit(const std::string& op_type, std::vector<std::string> inputs,
           std::vector<std::string> outputs, std::map<std::string, ir::Attribute> attrs = {},
           const std::string& node_name = "");
  ir::Node& node_at(int index);
  ir::Graph& graph();
  int consumers_of(const std::string& tf_tensor) const;

  // Records what output k of this node became; Output reads it back.
  void SetOutput(int k, TfValue v);
  TfValue Output(int k) const;
  // IR value names for this node's output k: "<node>:k", "<node>:k@nchw", "<node>:k@real".
  std::string OutName(int k, const char* suffix = "") const;

  // Attribute access; the Status forms fail naming the attribute when absent.
  const tensorflow::AttrValue* Attr(const std::string& key) const;
  int64_t Int(const std::string& key, int64_t fallback) const;
  float Float(const std::string& key, float fallback) const;
  bool Bool(const std::string& key, bool fallback) const;
  std::string Str(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> Ints(const std::string& key) const;
  std::vector<float> Floats(const std::string& key) const;
  int Type(const std::string& key, int fallback) const;  // tensorflow::DataType

  // "<file>: node '<name>' (<op>): <message>" with the code given.
  absl::Status Error(absl::StatusCode code, const std::string& message) const;
  absl::Status Invalid(const std::string& message) const {
    return Error(absl::StatusCode::kInvalidArgument, message);
  }
  absl::Status Unimplemented(const std::string& message) const {
    return Error(absl::StatusCode::kUnimplemented, message);
  }

 private:
  Importer& im_;
  const tensorflow::NodeDef& node_;
};

using OpHandler = std::function<absl::Status(OpContext&)>;

// op type → handler; adding an op is one function and one line in graphdef_ops.cc.
const std::map<std::string, OpHandler>& OpHandlers();

// The TF tensor name an input string denotes: "x" → "x:0", "x:1" → "x:1".
std::string TensorName(const std::string& input);

}  // namespace q8::engine::graphdef
