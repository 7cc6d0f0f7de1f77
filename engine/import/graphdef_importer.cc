// GraphDef / SavedModel file → ir::Graph: parsing, node order, the per-tensor state that
// handlers (graphdef_ops.cc) read and write, layout transposes, graph inputs/outputs and
// the float names of renamed quantized tensors.
#include "engine/import/graphdef_importer.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/import/graphdef_context.h"
#include "tensorflow/core/protobuf/saved_model.pb.h"

namespace q8::engine {
namespace graphdef {

std::string TensorName(const std::string& input) {
  const size_t colon = input.rfind(':');
  if (colon != std::string::npos) {
    int k = 0;
    if (absl::SimpleAtoi(input.substr(colon + 1), &k)) return input;
  }
  return absl::StrCat(input, ":0");
}

namespace {

bool IsControl(const std::string& input) { return !input.empty() && input[0] == '^'; }

std::string NodeOf(const std::string& input) {
  std::string s = IsControl(input) ? input.substr(1) : input;
  const size_t colon = s.rfind(':');
  int k = 0;
  if (colon != std::string::npos && absl::SimpleAtoi(s.substr(colon + 1), &k)) {
    s = s.substr(0, colon);
  }
  return s;
}

}  // namespace

// One import run: the file's nodes, what each TF tensor became, the IR being built.
class Importer {
 public:
  explicit Importer(std::string path) : path_(std::move(path)) {}

  // `outputs`: the graph outputs (TF tensor names); empty = every node output 0 nothing
  // reads.
  absl::StatusOr<ir::Graph> Run(const tensorflow::GraphDef& gd,
                                const std::vector<std::string>& outputs);

  // --- state shared with OpContext ---
  std::string path_;
  ir::Graph graph_;
  std::unordered_map<std::string, TfValue> values_;           // TF tensor → IR
  std::unordered_map<std::string, std::string> layout_memo_;  // "<ir>|nhwc" → IR value
  std::unordered_map<std::string, int> consumers_;            // TF tensor → data consumers
  std::unordered_set<std::string> used_names_;
  std::unordered_set<std::string> node_names_;  // of graph_.nodes

  std::string Unique(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_names_.count(name); ++i) name = absl::StrCat(base, "#", i);
    used_names_.insert(name);
    return name;
  }

 private:
  absl::StatusOr<std::vector<const tensorflow::NodeDef*>> Order(const tensorflow::GraphDef& gd);
  void RecordOriginalNames(const std::vector<const tensorflow::NodeDef*>& nodes);
};

// ---------------------------------------------------------------- OpContext

int OpContext::num_inputs() const {
  int n = 0;
  for (const auto& in : node_.input()) n += IsControl(in) ? 0 : 1;
  return n;
}

absl::StatusOr<TfValue> OpContext::Input(int i) const {
  int seen = 0;
  for (const auto& in : node_.input()) {
    if (IsControl(in)) continue;
    if (seen++ != i) continue;
    auto it = im_.values_.find(TensorName(in));
    if (it == im_.values_.end()) {
      return Invalid(absl::StrCat("input ", i, " '", in,
                                  "' is produced by no node of the graph (or by an output the "
                                  "producer's handler does not define)"));
    }
    return it->second;
  }
  return Invalid(absl::StrCat("has ", num_inputs(), " data inputs, needs at least ", i + 1));
}

const Tensor* OpContext::ConstTensor(const TfValue& v) const {
  return v.ir.empty() ? nullptr : im_.graph_.FindConstant(v.ir);
}

absl::StatusOr<std::vector<float>> OpContext::ConstFloats(int i, const char* what) const {
  auto v = Input(i);
  if (!v.ok()) return v.status();
  if (v->floats) return *v->floats;
  if (const Tensor* t = ConstTensor(*v); t && t->dtype() == DType::kFloat32) {
    const float* p = t->data_as<float>();
    return std::vector<float>(p, p + t->num_elements());
  }
  return Invalid(absl::StrCat("input ", i, " (", what, ", '", node_.input(i),
                              "') must be a float constant known at load time (a Const or the "
                              "min/max output of a quantized op with constant ranges); "
                              "run-time ranges are not supported, freeze them first "
                              "(e.g. graph_transforms freeze_requantization_ranges)"));
}

absl::StatusOr<float> OpContext::ConstScalar(int i, const char* what) const {
  auto f = ConstFloats(i, what);
  if (!f.ok()) return f.status();
  if (f->size() != 1) {
    return Invalid(
        absl::StrCat("input ", i, " (", what, ") must hold one value, holds ", f->size()));
  }
  return (*f)[0];
}

absl::StatusOr<std::vector<int64_t>> OpContext::ConstInts(int i, const char* what) const {
  auto v = Input(i);
  if (!v.ok()) return v.status();
  const Tensor* t = ConstTensor(*v);
  if (t == nullptr || (t->dtype() != DType::kInt32 && t->dtype() != DType::kInt64)) {
    return Invalid(absl::StrCat("input ", i, " (", what, ") must be an int32/int64 Const"));
  }
  std::vector<int64_t> out;
  for (int64_t k = 0; k < t->num_elements(); ++k) {
    out.push_back(t->dtype() == DType::kInt32 ? t->data_as<int32_t>()[k]
                                              : t->data_as<int64_t>()[k]);
  }
  return out;
}

absl::StatusOr<std::string> OpContext::Nhwc(const TfValue& v) {
  if (v.ir.empty() && v.reduce_kind != 0) {
    return Unimplemented(
        "reads a Min/Max reduction; those are supported only as the run-time "
        "range of a QuantizeV2 of the same tensor");
  }
  if (!v.pending_pads.empty()) {
    return Unimplemented(
        absl::StrCat("reads the output of Pad '", v.pad_source_tf,
                     "'; a Pad is supported only directly before Conv2D / "
                     "DepthwiseConv2dNative, where it becomes the conv's padding"));
  }
  if (v.qconst && v.ir.empty()) {
    return Unimplemented("reads a FakeQuant'd constant outside a Conv2D/MatMul weight");
  }
  if (!v.nchw) return v.ir;
  const std::string key = v.ir + "|nhwc";
  if (auto it = im_.layout_memo_.find(key); it != im_.layout_memo_.end()) return it->second;
  // "<tf>:k@nchw" → "<tf>:k": the NHWC version carries the TF name itself.
  std::string out = v.ir;
  if (absl::EndsWith(out, "@nchw")) out.resize(out.size() - 5);
  out = im_.Unique(out);
  MoveData("Transpose", v.ir, {}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}, out,
           absl::StrCat(out, "/to_nhwc"));
  im_.layout_memo_[key] = out;
  return out;
}

absl::StatusOr<std::string> OpContext::Nchw(const TfValue& v) {
  if (!v.pending_pads.empty() || (v.qconst && v.ir.empty())) return Nhwc(v);  // same error
  if (v.nchw) return v.ir;
  if (v.rank != 4) {
    return Invalid(absl::StrCat("needs a rank-4 NHWC input, input '", v.ir, "' has rank ",
                                v.rank < 0 ? std::string("unknown") : std::to_string(v.rank),
                                " (give its Placeholder a shape)"));
  }
  const std::string key = v.ir + "|nchw";
  if (auto it = im_.layout_memo_.find(key); it != im_.layout_memo_.end()) return it->second;
  const std::string out = im_.Unique(absl::StrCat(v.ir, "@nchw"));
  MoveData("Transpose", v.ir, {}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}, out,
           absl::StrCat(out, "/to_nchw"));
  im_.layout_memo_[key] = out;
  return out;
}

void OpContext::MoveData(const std::string& op, const std::string& in,
                         std::vector<std::string> extra, std::map<std::string, ir::Attribute> attrs,
                         const std::string& out, const std::string& node_name) {
  const int p = im_.graph_.ProducerOf(in);
  bool per_tensor_dq = false;
  std::vector<std::string> dq_inputs;
  if (p >= 0) {
    const ir::Node& dq = im_.graph_.nodes[p];
    const Tensor* scale = im_.graph_.FindConstant(dq.Input(1));
    per_tensor_dq = dq.op_type == "DequantizeLinear" && dq.domain.empty() && scale &&
                    scale->num_elements() == 1 && dq.inputs.size() == 3;
    dq_inputs = dq.inputs;
  }
  const std::string name = node_name.empty() ? node_.name() : node_name;
  std::vector<std::string> inputs{per_tensor_dq ? dq_inputs[0] : in};
  inputs.insert(inputs.end(), extra.begin(), extra.end());
  if (!per_tensor_dq) {
    Emit(op, std::move(inputs), {out}, std::move(attrs), name);
    return;
  }
  const std::string moved = im_.Unique(absl::StrCat(out, "@q"));
  Emit(op, std::move(inputs), {moved}, std::move(attrs), name);
  Emit("DequantizeLinear", {moved, dq_inputs[1], dq_inputs[2]}, {out}, {},
       absl::StrCat(name, "/dequantize"));
}

std::string OpContext::AddConst(const std::string& name, Tensor t) {
  const std::string unique = im_.Unique(name);
  im_.graph_.constants[unique] = std::make_shared<const Tensor>(std::move(t));
  return unique;
}

std::string OpContext::AddFloatConst(const std::string& name, std::vector<float> values,
                                     Shape shape) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::copy(values.begin(), values.end(), t.data_as<float>());
  return AddConst(name, std::move(t));
}

std::string OpContext::AddInt64Const(const std::string& name, std::vector<int64_t> values) {
  Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data_as<int64_t>());
  return AddConst(name, std::move(t));
}

std::string OpContext::AddScalar(const std::string& name, float value) {
  return AddFloatConst(name, {value}, {});
}

std::string OpContext::AddZeroPoint(const std::string& name, DType storage, int32_t zp) {
  Tensor t(storage, {});
  if (storage == DType::kUint8)
    *t.data_as<uint8_t>() = static_cast<uint8_t>(zp);
  else
    *t.data_as<int8_t>() = static_cast<int8_t>(zp);
  return AddConst(name, std::move(t));
}

int OpContext::Emit(const std::string& op_type, std::vector<std::string> inputs,
                    std::vector<std::string> outputs, std::map<std::string, ir::Attribute> attrs,
                    const std::string& node_name) {
  ir::Node n;
  n.op_type = op_type;
  n.name = node_name.empty() ? node_.name() : node_name;
  // IR node names are unique; TF node names already are, helpers get a suffix.
  for (int i = 1; im_.node_names_.count(n.name); ++i) {
    n.name = absl::StrCat(node_name.empty() ? node_.name() : node_name, "/", op_type, i);
  }
  im_.node_names_.insert(n.name);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  for (const auto& o : n.outputs) im_.used_names_.insert(o);
  n.attrs = std::move(attrs);
  im_.graph_.nodes.push_back(std::move(n));
  return static_cast<int>(im_.graph_.nodes.size()) - 1;
}

ir::Node& OpContext::node_at(int index) { return im_.graph_.nodes[index]; }
ir::Graph& OpContext::graph() { return im_.graph_; }

int OpContext::consumers_of(const std::string& tf_tensor) const {
  auto it = im_.consumers_.find(tf_tensor);
  return it == im_.consumers_.end() ? 0 : it->second;
}

void OpContext::SetOutput(int k, TfValue v) {
  im_.values_[absl::StrCat(node_.name(), ":", k)] = std::move(v);
}

TfValue OpContext::Output(int k) const {
  auto it = im_.values_.find(absl::StrCat(node_.name(), ":", k));
  return it == im_.values_.end() ? TfValue{} : it->second;
}

std::string OpContext::OutName(int k, const char* suffix) const {
  return im_.Unique(absl::StrCat(node_.name(), ":", k, suffix));
}

const tensorflow::AttrValue* OpContext::Attr(const std::string& key) const {
  auto it = node_.attr().find(key);
  return it == node_.attr().end() ? nullptr : &it->second;
}
int64_t OpContext::Int(const std::string& key, int64_t fallback) const {
  const auto* a = Attr(key);
  return a && a->value_case() == tensorflow::AttrValue::kI ? a->i() : fallback;
}
float OpContext::Float(const std::string& key, float fallback) const {
  const auto* a = Attr(key);
  return a && a->value_case() == tensorflow::AttrValue::kF ? a->f() : fallback;
}
bool OpContext::Bool(const std::string& key, bool fallback) const {
  const auto* a = Attr(key);
  return a && a->value_case() == tensorflow::AttrValue::kB ? a->b() : fallback;
}
std::string OpContext::Str(const std::string& key, const std::string& fallback) const {
  const auto* a = Attr(key);
  return a && a->value_case() == tensorflow::AttrValue::kS ? a->s() : fallback;
}
std::vector<int64_t> OpContext::Ints(const std::string& key) const {
  const auto* a = Attr(key);
  if (!a || !a->has_list()) return {};
  return {a->list().i().begin(), a->list().i().end()};
}
std::vector<float> OpContext::Floats(const std::string& key) const {
  const auto* a = Attr(key);
  if (!a || !a->has_list()) return {};
  return {a->list().f().begin(), a->list().f().end()};
}
int OpContext::Type(const std::string& key, int fallback) const {
  const auto* a = Attr(key);
  return a && a->value_case() == tensorflow::AttrValue::kType ? a->type() : fallback;
}

absl::Status OpContext::Error(absl::StatusCode code, const std::string& message) const {
  return absl::Status(
      code, absl::StrCat(im_.path_, ": node '", node_.name(), "' (", node_.op(), "): ", message));
}

// ---------------------------------------------------------------- Importer

// GraphDefs need not be topologically sorted (TF sorts at import_graph_def time): Kahn's
// algorithm over data and control edges, keeping file order among ready nodes.
absl::StatusOr<std::vector<const tensorflow::NodeDef*>> Importer::Order(
    const tensorflow::GraphDef& gd) {
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < gd.node_size(); ++i) {
    if (!index.emplace(gd.node(i).name(), i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": two nodes are named '", gd.node(i).name(), "'"));
    }
  }
  std::vector<int> pending(gd.node_size(), 0);
  std::vector<std::vector<int>> users(gd.node_size());
  for (int i = 0; i < gd.node_size(); ++i) {
    for (const auto& in : gd.node(i).input()) {
      auto it = index.find(NodeOf(in));
      if (it == index.end()) {
        return absl::InvalidArgumentError(absl::StrCat(path_, ": node '", gd.node(i).name(), "' (",
                                                       gd.node(i).op(), "): input '", in,
                                                       "' names no node of the graph"));
      }
      ++pending[i];
      users[it->second].push_back(i);
      if (!IsControl(in)) ++consumers_[TensorName(in)];
    }
  }
  std::set<int> ready;
  for (int i = 0; i < gd.node_size(); ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<const tensorflow::NodeDef*> order;
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(&gd.node(i));
    for (int u : users[i]) {
      if (--pending[u] == 0) ready.insert(u);
    }
  }
  if (order.size() != static_cast<size_t>(gd.node_size())) {
    for (int i = 0; i < gd.node_size(); ++i) {
      if (pending[i] > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ": the graph has a cycle through node '", gd.node(i).name(), "' (",
                         gd.node(i).op(),
                         "); frozen inference graphs have none (control flow is not supported)"));
      }
    }
  }
  return order;
}

namespace {

// Name markers TF's quantization tools append to the nodes they insert or rename:
// quantize_graph.py ("conv1/Relu_eightbit_quantized", "_eightbit_requantize", …) and
// graph_transforms quantize_nodes ("conv1/Relu/eightbit", "…/eightbit/requantize").
std::string StripQuantMarker(const std::string& name) {
  for (const char* marker : {"_eightbit", "/eightbit"}) {
    const size_t at = name.find(marker);
    if (at != std::string::npos && at > 0) return name.substr(0, at);
  }
  return name;
}

bool IsRangeOrConversion(const std::string& op) {
  return op == "Dequantize" || op == "Requantize" || op == "QuantizeV2" || op == "QuantizedReshape";
}

}  // namespace

// The float name a renamed tensor stands for, when the names make it derivable:
//   x_eightbit_* / x/eightbit/* (quantized ops)            → "x:0"
//   Dequantize/Requantize whose chain starts at such an op  → that op's float name
// e.g. conv1/Relu_eightbit_quantized → Requantize → Dequantize "conv1/Relu_eightbit_dequantize"
// stands for "conv1/Relu:0". Recorded in Graph::original_names for IR values that carry the
// TF tensor's name.
void Importer::RecordOriginalNames(const std::vector<const tensorflow::NodeDef*>& nodes) {
  std::unordered_map<std::string, const tensorflow::NodeDef*> by_name;
  for (const auto* n : nodes) by_name[n->name()] = n;
  for (const auto* n : nodes) {
    std::string original;
    const tensorflow::NodeDef* p = n;
    // Walk back through conversions to the op that computed the value.
    for (int guard = 0; guard < 64 && p && IsRangeOrConversion(p->op()) && p->input_size() > 0;
         ++guard) {
      auto it = by_name.find(NodeOf(p->input(0)));
      if (it == by_name.end()) break;
      p = it->second;
    }
    if (p && p != n && StripQuantMarker(p->name()) != p->name()) {
      original = StripQuantMarker(p->name());
    } else if (StripQuantMarker(n->name()) != n->name()) {
      original = StripQuantMarker(n->name());
    }
    if (original.empty() || original == n->name()) continue;
    const std::string tf = absl::StrCat(n->name(), ":0");
    auto v = values_.find(tf);
    if (v == values_.end() || v->second.ir.empty() || graph_.FindConstant(v->second.ir)) continue;
    // The value itself ("x:0", or "x:0@nchw" when held as NCHW) and its NHWC form.
    for (const std::string& ir : {v->second.ir, tf}) {
      if (ir != tf && !absl::StartsWith(ir, tf + "@")) continue;
      if (graph_.ProducerOf(ir) < 0) continue;
      graph_.original_names[ir] = absl::StrCat(original, ":0");
    }
  }
}

absl::StatusOr<ir::Graph> Importer::Run(const tensorflow::GraphDef& gd,
                                        const std::vector<std::string>& signature_outputs) {
  auto order = Order(gd);
  if (!order.ok()) return order.status();
  graph_.producer = absl::StrCat("tensorflow graph_def producer ", gd.versions().producer());
  const auto& handlers = OpHandlers();
  for (const tensorflow::NodeDef* node : *order) {
    auto it = handlers.find(node->op());
    if (it == handlers.end()) {
      return absl::UnimplementedError(
          absl::StrCat(path_, ": node '", node->name(), "' has op type '", node->op(),
                       "', which the GraphDef importer does not support (supported: ",
                       absl::StrJoin(SupportedGraphDefOps(), ", "), ")"));
    }
    OpContext ctx(*this, *node);
    if (auto s = it->second(ctx); !s.ok()) return s;
  }

  // Outputs: the signatures', else output 0 of every node nothing reads (Const, NoOp and
  // Placeholder excluded), in file order.
  std::vector<std::string> outputs = signature_outputs;
  if (outputs.empty()) {
    std::unordered_set<std::string> read_nodes;
    for (const auto& n : gd.node()) {
      for (const auto& in : n.input()) read_nodes.insert(NodeOf(in));
    }
    for (const auto& n : gd.node()) {
      if (read_nodes.count(n.name()) || n.op() == "Const" || n.op() == "NoOp" ||
          n.op() == "Placeholder" || n.op() == "RequantizationRange") {
        continue;
      }
      outputs.push_back(absl::StrCat(n.name(), ":0"));
    }
  }
  if (outputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": the graph has no output tensor"));
  }
  for (const std::string& tf : outputs) {
    auto it = values_.find(tf);
    if (it == values_.end() || it->second.ir.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": output '", tf, "' is not a tensor the graph computes"));
    }
    const TfValue& v = it->second;
    if (graph_.FindConstant(v.ir)) {
      return absl::UnimplementedError(
          absl::StrCat(path_, ": output '", tf, "' is a constant; nothing to serve"));
    }
    tensorflow::NodeDef dummy;
    dummy.set_name(tf);
    OpContext ctx(*this, dummy);
    auto nhwc = ctx.Nhwc(v);
    if (!nhwc.ok()) return nhwc.status();
    std::string ir = *nhwc;
    if (v.real_qint32) {
      return absl::UnimplementedError(absl::StrCat(
          path_, ": output '", tf, "' is qint32; end the graph with Dequantize or Requantize"));
    }
    if (ir != tf && graph_.ProducerOf(tf) < 0 && !graph_.FindConstant(tf)) {
      // The IR value has another name (an aliased Identity): name the output as TF does.
      ctx.Emit("Identity", {ir}, {tf}, {}, NodeOf(tf));
      ir = tf;
    }
    ir::ValueInfo info;
    info.name = ir;
    info.dtype = v.dtype;
    // Dims are fixed only at run time (no shape inference here); the rank is known.
    if (v.rank >= 0) info.shape = Shape(static_cast<size_t>(v.rank), -1);
    graph_.outputs.push_back(std::move(info));
  }
  RecordOriginalNames(*order);
  return std::move(graph_);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open model file"));
  std::ostringstream buf;
  buf << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return buf.str();
}

}  // namespace graphdef

namespace graphdef {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

// Text-format parse errors with their line and column; skipped unknown fields (TF writes
// fields our protos leave undeclared: debug_info, FunctionDef bodies, experimental_type)
// as warnings.
class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (errors.empty()) errors = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    warnings.push_back(absl::StrCat("line ", line + 1, ":", column + 1, ": ", message));
  }
  std::string errors;
  std::vector<std::string> warnings;
};

// The SavedModel's signature_defs as a q8serve.v1.SignatureFile text for the signature
// layer (server/signature/declaration.h, metadata key "q8serve.signatures"): every
// signature, its keys bound explicitly to the TF tensors. The engine runs the whole graph
// per request, so a signature must feed every graph input; one that feeds a tensor other
// than a Placeholder, or leaves a Placeholder unfed, is left out with a warning.
std::string SignatureDeclaration(const tensorflow::MetaGraphDef& meta, const ir::Graph& graph,
                                 std::vector<std::string>& warnings) {
  std::set<std::string> graph_inputs;
  for (const auto& in : graph.inputs) graph_inputs.insert(in.name);
  const std::map<std::string, tensorflow::SignatureDef> sorted(meta.signature_def().begin(),
                                                               meta.signature_def().end());
  std::string text, first;
  bool has_default = false;
  for (const auto& [key, sig] : sorted) {
    std::set<std::string> fed;
    std::string why;
    for (const auto& [name, info] : sig.inputs()) {
      const std::string tensor = TensorName(info.name());
      if (!graph_inputs.count(tensor)) {
        why = absl::StrCat("its input '", name, "' is tensor '", tensor,
                           "', which is not a Placeholder of the graph");
        break;
      }
      fed.insert(tensor);
    }
    if (why.empty() && fed != graph_inputs) {
      std::vector<std::string> unfed;
      for (const auto& t : graph_inputs) {
        if (!fed.count(t)) unfed.push_back(t);
      }
      why = absl::StrCat("it leaves graph input(s) ", absl::StrJoin(unfed, ", "),
                         " unfed, and q8serve runs the whole graph");
    }
    if (!why.empty()) {
      warnings.push_back(absl::StrCat("signature_def '", key, "' is not served: ", why));
      continue;
    }
    if (first.empty()) first = key;
    has_default = has_default || key == "serving_default";
    absl::StrAppend(&text, "signatures {\n  name: ", Quote(key), "\n");
    const std::map<std::string, tensorflow::TensorInfo> ins(sig.inputs().begin(),
                                                            sig.inputs().end());
    const std::map<std::string, tensorflow::TensorInfo> outs(sig.outputs().begin(),
                                                             sig.outputs().end());
    for (const auto& [name, info] : ins) {
      absl::StrAppend(&text, "  inputs { name: ", Quote(name),
                      " tensor: ", Quote(TensorName(info.name())), " }\n");
    }
    for (const auto& [name, info] : outs) {
      absl::StrAppend(&text, "  outputs { name: ", Quote(name),
                      " tensor: ", Quote(TensorName(info.name())), " }\n");
    }
    absl::StrAppend(&text, "}\n");
  }
  if (text.empty()) return "";
  absl::StrAppend(&text, "default_signature: ", Quote(has_default ? "serving_default" : first),
                  "\n");
  return text;
}

}  // namespace
}  // namespace graphdef

absl::StatusOr<ir::Graph> ImportGraphDefFile(const std::string& path) {
  auto bytes = graphdef::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  tensorflow::GraphDef gd;
  std::vector<std::string> warnings;
  const tensorflow::MetaGraphDef* meta = nullptr;
  tensorflow::SavedModel sm;
  if (absl::EndsWith(path, ".pbtxt")) {
    google::protobuf::TextFormat::Parser parser;
    graphdef::TextErrors errors;
    parser.RecordErrorsTo(&errors);
    parser.AllowUnknownField(true);
    if (!parser.ParseFromString(*bytes, &gd)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a text-format GraphDef (protobuf text parse failed at ",
                       errors.errors, ")"));
    }
    for (const auto& w : errors.warnings) warnings.push_back(absl::StrCat("skipped ", w));
  } else if (absl::EndsWith(path, "saved_model.pb")) {
    if (!sm.ParseFromString(*bytes) || sm.meta_graphs_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a SavedModel with a MetaGraphDef (protobuf parse failed)"));
    }
    meta = &sm.meta_graphs(0);
    for (const auto& m : sm.meta_graphs()) {
      const auto& tags = m.meta_info_def().tags();
      if (std::find(tags.begin(), tags.end(), "serve") != tags.end()) meta = &m;
    }
    gd = meta->graph_def();
    for (const auto& n : gd.node()) {
      if (n.op() == "VarHandleOp" || n.op() == "VariableV2" || n.op() == "ReadVariableOp") {
        return absl::UnimplementedError(absl::StrCat(
            path, ": node '", n.name(), "' (", n.op(),
            ") reads a variable; q8serve serves frozen graphs (convert variables to constants, "
            "e.g. convert_variables_to_constants_v2, and save again)"));
      }
    }
  } else if (!gd.ParseFromString(*bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a binary GraphDef (protobuf parse failed)"));
  }
  // A SavedModel's graph outputs: every signature's outputs (sorted, once each).
  std::vector<std::string> outputs;
  if (meta != nullptr) {
    std::set<std::string> all;
    for (const auto& [key, sig] : meta->signature_def()) {
      for (const auto& [name, info] : sig.outputs()) all.insert(graphdef::TensorName(info.name()));
    }
    outputs.assign(all.begin(), all.end());
  }
  graphdef::Importer importer(path);
  auto graph = importer.Run(gd, outputs);
  if (!graph.ok()) return graph.status();
  if (meta != nullptr) {
    const std::string declaration = graphdef::SignatureDeclaration(*meta, *graph, warnings);
    if (!declaration.empty()) graph->metadata["q8serve.signatures"] = declaration;
    // The serving signature's keys, for listings: "tf.signature.input.<key>" → tensor.
    if (auto it = meta->signature_def().find("serving_default");
        it != meta->signature_def().end()) {
      for (const auto& [key, info] : it->second.inputs()) {
        graph->metadata[absl::StrCat("tf.signature.input.", key)] =
            graphdef::TensorName(info.name());
      }
      for (const auto& [key, info] : it->second.outputs()) {
        graph->metadata[absl::StrCat("tf.signature.output.", key)] =
            graphdef::TensorName(info.name());
      }
    }
  }
  if (!warnings.empty()) graph->metadata["tf.warnings"] = absl::StrJoin(warnings, "\n");
  return graph;
}

std::vector<std::string> SupportedGraphDefOps() {
  std::vector<std::string> ops;
  for (const auto& [op, _] : graphdef::OpHandlers()) ops.push_back(op);
  return ops;
}

}  // namespace q8::engine
