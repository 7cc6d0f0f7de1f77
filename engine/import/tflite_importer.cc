// Reads a .tflite flatbuffer, checks it, describes its tensors and drives the per-op
// translation (tflite_ops.cc). Nothing of the buffer is read before the flatbuffers
// Verifier has accepted it, and every index the file holds (tensor, buffer, opcode,
// subgraph) is range-checked here, so a truncated or hostile file is a load error.
#include "engine/import/tflite_importer.h"

#include <flatbuffers/flatbuffers.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/import/tflite_translator.h"

namespace q8::engine {
namespace {

namespace fb = ::q8::tflite_fb;
using tflite::TfTensor;
using tflite::Translator;

// TFLite's 2 GB limit aside, a file must at least hold a root offset and the identifier.
constexpr size_t kMinFileBytes = 8;
// Largest tensor accepted (elements): far above any model TFLite itself can hold (its
// buffers live in one flatbuffer of at most 2 GB).
constexpr double kMaxTensorElements = 2147483648.0;

// INT16 has no engine dtype: only the LSTM's cell state (read by its own translator) uses it.
absl::StatusOr<DType> DTypeOf(fb::TensorType type, bool* int16) {
  *int16 = false;
  switch (type) {
    case fb::TensorType::FLOAT32:
      return DType::kFloat32;
    case fb::TensorType::INT8:
      return DType::kInt8;
    case fb::TensorType::UINT8:
      return DType::kUint8;
    case fb::TensorType::INT32:
      return DType::kInt32;
    case fb::TensorType::INT64:
      return DType::kInt64;
    case fb::TensorType::BOOL:
      return DType::kBool;
    case fb::TensorType::INT16:
      *int16 = true;
      return DType::kUnknown;
    default:
      break;
  }
  const char* name = fb::EnumNameTensorType(type);
  return absl::UnimplementedError(absl::StrCat(
      "type ", *name ? name : absl::StrCat(static_cast<int>(type)).c_str(),
      " is not supported (supported: FLOAT32, INT8, UINT8, INT32, INT64, BOOL; INT16 only as "
      "an LSTM state)"));
}

// The quantization of one tensor. Per-channel parameters need one scale per element of the
// quantized dimension. One tolerated inconsistency, which TFLite Micro accepts and models in
// the wild carry (person_detect.tflite): a 1-D bias whose scale count equals its length but
// whose quantized_dimension is the filter's (3) — read as axis 0, with a warning.
absl::Status ReadQuant(const fb::Tensor& ft, TfTensor& t, const std::string& path,
                       std::vector<std::string>& warnings) {
  // Names are not final yet (unnamed tensors get theirs later): messages use the file's.
  const std::string name = t.file_name.empty()
                               ? absl::StrCat("tensor_", t.index, " (unnamed in the file)")
                               : absl::StrCat("'", t.file_name, "'");
  const fb::QuantizationParameters* q = ft.quantization();
  if (q == nullptr || q->scale() == nullptr || q->scale()->size() == 0) return absl::OkStatus();
  if (q->details_type() != fb::QuantizationDetails::NONE) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": tensor ", name, " uses custom quantization details"));
  }
  const size_t n = q->scale()->size();
  QuantParams p;
  p.storage = t.dtype;
  for (float s : *q->scale()) {
    if (!(s > 0.f) || !std::isfinite(s)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensor ", name,
                                                     " has a quantization scale ", s,
                                                     " (scales must be positive and finite)"));
    }
    p.scales.push_back(s);
  }
  const size_t nz = q->zero_point() ? q->zero_point()->size() : 0;
  if (nz != 0 && nz != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": tensor ", name, " has ", n, " scales but ", nz, " zero points"));
  }
  for (size_t i = 0; i < n; ++i) {
    p.zero_points.push_back(nz ? q->zero_point()->Get(static_cast<uint32_t>(i)) : 0);
  }
  if (n > 1) {
    const int rank = static_cast<int>(t.shape.size());
    int axis = q->quantized_dimension();
    if (rank == 1 && (axis < 0 || axis >= rank) && t.shape[0] == static_cast<int64_t>(n)) {
      const std::string w = absl::StrCat(
          path, ": tensor ", name, " (1-D, ", n, " scales) declares quantized_dimension ", axis,
          ", out of range for its rank; reading it as axis 0 (as TFLite Micro does)");
      spdlog::warn("{}", w);
      warnings.push_back(w);
      axis = 0;
    }
    if (axis < 0 || axis >= rank || t.shape[static_cast<size_t>(axis)] != static_cast<int64_t>(n)) {
      std::vector<std::string> fits;
      for (int d = 0; d < rank; ++d) {
        if (t.shape[static_cast<size_t>(d)] == static_cast<int64_t>(n)) {
          fits.push_back(absl::StrCat(d));
        }
      }
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor ", name, " of shape ", ShapeToString(t.shape), " has ", n,
                       " per-channel scales along quantized_dimension ", axis,
                       ", which does not match that dimension (dims of size ", n, ": ",
                       fits.empty() ? "none" : absl::StrJoin(fits, ", "), ")"));
    }
    p.axis = axis;
  }
  t.quant = std::move(p);
  return absl::OkStatus();
}

std::string QuoteDeclaration(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The file's SignatureDefs (of subgraph 0) as a q8serve.v1.SignatureFile text: logical
// name → graph tensor. A quantized int8/uint8 tensor's logical dtype is float32: a
// SignatureDef is the SavedModel signature the converter started from, and the only
// reason a signature tensor carries scale/zero-point is that a float tensor was quantized
// at the boundary; the server then converts at the boundary with these parameters.
std::string SignatureDeclaration(const fb::Model& model, Translator& tr,
                                 const std::set<int>& graph_inputs,
                                 const std::set<int>& graph_outputs) {
  if (model.signature_defs() == nullptr) return "";
  std::string text;
  std::string first;
  bool has_default = false;
  for (const fb::SignatureDef* sig : *model.signature_defs()) {
    if (sig == nullptr || sig->subgraph_index() != 0) continue;
    const std::string key = sig->signature_key() ? sig->signature_key()->str() : "";
    if (key.empty()) continue;
    if (first.empty()) first = key;
    has_default = has_default || key == "serving_default";
    absl::StrAppend(&text, "signatures {\n  name: ", QuoteDeclaration(key), "\n");
    auto add = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::TensorMap>>* maps,
                   const std::set<int>& allowed, const char* field) {
      if (maps == nullptr) return;
      for (const fb::TensorMap* m : *maps) {
        if (m == nullptr || m->name() == nullptr) continue;
        const int index = static_cast<int>(m->tensor_index());
        if (!allowed.count(index)) continue;  // checked by the caller; skip rather than lie
        const TfTensor& t = tr.tensor(index);
        absl::StrAppend(&text, "  ", field, " { name: ", QuoteDeclaration(m->name()->str()),
                        " tensor: ", QuoteDeclaration(t.name));
        if (t.quant && (t.dtype == DType::kInt8 || t.dtype == DType::kUint8)) {
          absl::StrAppend(&text, " dtype: \"float32\"");
        }
        absl::StrAppend(&text, " }\n");
      }
    };
    add(sig->inputs(), graph_inputs, "inputs");
    add(sig->outputs(), graph_outputs, "outputs");
    absl::StrAppend(&text, "}\n");
  }
  if (text.empty()) return "";
  absl::StrAppend(&text,
                  "default_signature: ", QuoteDeclaration(has_default ? "serving_default" : first),
                  "\n");
  return text;
}

}  // namespace

absl::StatusOr<ir::Graph> ImportTfliteBytes(const std::string& bytes, const std::string& path) {
  auto invalid = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
  };
  if (bytes.size() < kMinFileBytes ||
      !fb::ModelBufferHasIdentifier(reinterpret_cast<const uint8_t*>(bytes.data()))) {
    return invalid("not a TensorFlow Lite model (no \"TFL3\" file identifier)");
  }
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fb::VerifyModelBuffer(verifier)) {
    return invalid("the TensorFlow Lite flatbuffer fails verification (truncated or corrupt file)");
  }
  const fb::Model& model = *fb::GetModel(bytes.data());
  if (model.version() != 3) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": schema version ", model.version(), " (supported: 3)"));
  }
  if (model.subgraphs() == nullptr || model.subgraphs()->size() == 0) {
    return invalid("the model has no subgraph");
  }
  const fb::SubGraph* sg = model.subgraphs()->Get(0);
  const uint32_t num_buffers = model.buffers() ? model.buffers()->size() : 0;
  const uint32_t num_codes = model.operator_codes() ? model.operator_codes()->size() : 0;
  const int num_tensors = sg->tensors() ? static_cast<int>(sg->tensors()->size()) : 0;

  // Operator codes first: a model we cannot run is reported with every reason at once.
  std::vector<int> codes;
  std::vector<std::string> custom;
  for (uint32_t i = 0; i < num_codes; ++i) {
    const fb::OperatorCode* oc = model.operator_codes()->Get(i);
    codes.push_back(std::max<int>(oc->deprecated_builtin_code(), oc->builtin_code()));
    custom.push_back(oc->custom_code() ? oc->custom_code()->str() : "");
  }
  const auto& builtins = tflite::BuiltinOps();
  std::vector<std::string> unsupported;
  const uint32_t num_ops = sg->operators() ? sg->operators()->size() : 0;
  for (uint32_t i = 0; i < num_ops; ++i) {
    const uint32_t oc = sg->operators()->Get(i)->opcode_index();
    if (oc >= num_codes) {
      return invalid(absl::StrCat("operator #", i, " has opcode_index ", oc, " but the model has ",
                                  num_codes, " operator codes"));
    }
    if (codes[oc] == 32 /* CUSTOM */) {
      unsupported.push_back(absl::StrCat("#", i, " custom op '", custom[oc], "'"));
    } else if (!builtins.count(codes[oc])) {
      unsupported.push_back(absl::StrCat("#", i, " ", tflite::BuiltinName(codes[oc])));
    }
  }
  if (!unsupported.empty()) {
    std::vector<std::string> names;
    for (const auto& [code, op] : builtins) names.push_back(op.name);
    return absl::UnimplementedError(absl::StrCat(
        path, ": operators the engine does not support: ", absl::StrJoin(unsupported, ", "),
        ". Supported TFLite builtin ops: ", absl::StrJoin(names, ", "),
        " (custom ops are not supported)"));
  }

  // Tensors.
  std::vector<std::string> warnings;
  std::vector<TfTensor> tensors(static_cast<size_t>(num_tensors));
  std::set<std::string> names;
  for (int i = 0; i < num_tensors; ++i) {
    const fb::Tensor* ft = sg->tensors()->Get(static_cast<uint32_t>(i));
    TfTensor& t = tensors[static_cast<size_t>(i)];
    t.index = i;
    t.file_name = ft->name() ? ft->name()->str() : "";
    if (ft->sparsity() != nullptr) {
      return absl::UnimplementedError(
          absl::StrCat(path, ": tensor '", t.file_name, "' is sparse (densify the model first)"));
    }
    if (ft->shape()) {
      for (int d : *ft->shape()) {
        if (d < 0) {
          return invalid(absl::StrCat("tensor '", t.file_name, "' has a negative dim ", d));
        }
        t.shape.push_back(d);
      }
    }
    // A hostile shape must not turn into a huge allocation (or an int64 overflow) later.
    double elements = 1;
    for (int64_t d : t.shape) elements *= static_cast<double>(d);
    if (elements > kMaxTensorElements) {
      return invalid(absl::StrCat("tensor '", t.file_name, "' of shape ", ShapeToString(t.shape),
                                  " has more than 2^31 elements"));
    }
    auto dtype = DTypeOf(ft->type(), &t.int16);
    if (!dtype.ok()) {
      // Tolerated until an operator reads the tensor (it may be unused).
      t.dtype = DType::kUnknown;
    } else {
      t.dtype = *dtype;
    }
    if (ft->buffer() >= num_buffers && ft->buffer() != 0) {
      return invalid(absl::StrCat("tensor '", t.file_name, "' refers to buffer ", ft->buffer(),
                                  " but the model has ", num_buffers));
    }
    if (ft->buffer() != 0 && ft->buffer() < num_buffers) {
      const fb::Buffer* b = model.buffers()->Get(ft->buffer());
      if (b->offset() > 1) {
        return absl::UnimplementedError(absl::StrCat(path, ": tensor '", t.file_name,
                                                     "' keeps its data outside the flatbuffer "
                                                     "(models over 2 GB are not supported)"));
      }
      if (b->data() && b->data()->size() > 0) {
        t.data = b->data()->data();
        t.data_size = b->data()->size();
        const size_t width = t.int16 ? 2 : DTypeSize(t.dtype);
        if (width > 0 && t.data_size != static_cast<size_t>(NumElements(t.shape)) * width) {
          return invalid(absl::StrCat("constant tensor '", t.file_name, "' of shape ",
                                      ShapeToString(t.shape), " holds ", t.data_size,
                                      " bytes, needs ", NumElements(t.shape) * width));
        }
      }
    }
    if (auto s = ReadQuant(*ft, t, path, warnings); !s.ok()) return s;
  }

  // Names: the file's where it has them (made unique), generated for unnamed graph
  // inputs/outputs ("input_0", "output_0") and other tensors ("tensor_<index>").
  std::set<int> graph_inputs, graph_outputs;
  auto check_index = [&](int index, const char* what) -> absl::Status {
    if (index < 0 || index >= num_tensors) {
      return invalid(
          absl::StrCat(what, " refers to tensor ", index, " but the subgraph has ", num_tensors));
    }
    return absl::OkStatus();
  };
  std::vector<int> inputs, outputs;
  if (sg->inputs()) {
    for (int i : *sg->inputs()) {
      if (auto s = check_index(i, "a subgraph input"); !s.ok()) return s;
      inputs.push_back(i);
      graph_inputs.insert(i);
    }
  }
  if (sg->outputs()) {
    for (int i : *sg->outputs()) {
      if (auto s = check_index(i, "a subgraph output"); !s.ok()) return s;
      outputs.push_back(i);
      graph_outputs.insert(i);
    }
  }
  std::vector<std::string> generated;
  for (size_t k = 0; k < inputs.size(); ++k) {
    TfTensor& t = tensors[static_cast<size_t>(inputs[k])];
    if (t.file_name.empty() && t.name.empty()) {
      t.name = absl::StrCat("input_", k);
      generated.push_back(absl::StrCat(t.name, " = input ", k, " (tensor #", t.index, ")"));
    }
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    TfTensor& t = tensors[static_cast<size_t>(outputs[k])];
    if (t.file_name.empty() && t.name.empty()) {
      t.name = absl::StrCat("output_", k);
      generated.push_back(absl::StrCat(t.name, " = output ", k, " (tensor #", t.index, ")"));
    }
  }
  for (TfTensor& t : tensors) {
    if (!t.name.empty()) continue;
    t.name = t.file_name.empty() ? absl::StrCat("tensor_", t.index) : t.file_name;
  }
  for (TfTensor& t : tensors) {
    if (!names.insert(t.name).second) {
      t.name = absl::StrCat(t.name, "#", t.index);
      names.insert(t.name);
    }
  }

  Translator tr(path, std::move(tensors));
  ir::Graph& graph = tr.graph();
  graph.name = sg->name() ? sg->name()->str() : "";
  graph.producer = absl::StrCat("TensorFlow Lite (schema version ", model.version(), ")");
  if (model.description() && model.description()->size() > 0) {
    absl::StrAppend(&graph.producer, ": ", model.description()->str());
  }
  for (int i : inputs) {
    TfTensor& t = tr.tensor(i);
    if (t.dtype == DType::kUnknown) {
      return absl::UnimplementedError(absl::StrCat(path, ": graph input '", t.name,
                                                   "' has a type the engine does not support"));
    }
    t.value = tr.Fresh(t.name);
    graph.inputs.push_back(ir::ValueInfo{t.value, t.dtype, t.shape});
    if (t.file_name.empty()) graph.generated_names.insert(t.value);
  }

  // Who reads what, for translators that look ahead (PAD folded into a convolution).
  tr.readers().assign(static_cast<size_t>(num_tensors), {});
  tr.is_graph_output().assign(static_cast<size_t>(num_tensors), false);
  for (int o : outputs) tr.is_graph_output()[static_cast<size_t>(o)] = true;
  for (uint32_t i = 0; i < num_ops; ++i) {
    const fb::Operator* op = sg->operators()->Get(i);
    tr.op_codes().push_back(codes[op->opcode_index()]);
    for (const auto* list : {op->inputs(), op->outputs(), op->intermediates()}) {
      if (list == nullptr) continue;
      for (int index : *list) {
        if (index == -1 && list != op->outputs()) continue;
        if (auto s = check_index(index, absl::StrCat("operator #", i).c_str()); !s.ok()) return s;
      }
    }
    if (op->inputs()) {
      for (uint32_t k = 0; k < op->inputs()->size(); ++k) {
        const int index = op->inputs()->Get(k);
        if (index >= 0) tr.readers()[static_cast<size_t>(index)].emplace_back(i, k);
      }
    }
  }

  for (uint32_t i = 0; i < num_ops; ++i) {
    const fb::Operator* op = sg->operators()->Get(i);
    const tflite::BuiltinOp& b = builtins.at(codes[op->opcode_index()]);
    tr.BeginOp(static_cast<int>(i), b.name);
    if (auto s = b.translate(tr, *op); !s.ok()) return s;
  }

  for (int o : outputs) {
    auto v = tr.Value(o);
    if (!v.ok()) return v.status();
    const TfTensor& t = tr.tensor(o);
    // A graph output must be the tensor's own name; an output that is also a graph input
    // or a constant gets an Identity under its name.
    std::string name = *v;
    if (graph_inputs.count(o) || graph.FindConstant(name) != nullptr) {
      name = tr.Fresh(absl::StrCat(t.name, ":output"));
      tr.Emit("Identity", {*v}, {name});
    }
    graph.outputs.push_back(ir::ValueInfo{name, t.dtype, t.shape});
    if (t.file_name.empty()) graph.generated_names.insert(name);
  }

  // Types and shapes of the values that hold TFLite tensors, for graph listings.
  for (int i = 0; i < num_tensors; ++i) {
    const TfTensor& t = tr.tensor(i);
    if (t.dtype == DType::kUnknown || t.data != nullptr) continue;
    if (!t.value.empty()) graph.value_info[t.value] = ir::ValueInfo{t.value, t.dtype, t.shape};
    if (!t.nchw_value.empty() && t.shape.size() == 4) {
      graph.value_info[t.nchw_value] =
          ir::ValueInfo{t.nchw_value, t.dtype, tflite::NhwcToNchw(t.shape)};
    }
  }

  const std::string declaration = SignatureDeclaration(model, tr, graph_inputs, graph_outputs);
  if (!declaration.empty()) graph.metadata["q8serve.signatures"] = declaration;
  if (!generated.empty()) {
    graph.metadata["tflite.generated_names"] = absl::StrJoin(generated, "; ");
  }
  if (!tr.warnings().empty()) {
    warnings.insert(warnings.end(), tr.warnings().begin(), tr.warnings().end());
  }
  if (!warnings.empty()) graph.metadata["tflite.warnings"] = absl::StrJoin(warnings, "\n");
  return std::move(tr.graph());
}

absl::StatusOr<ir::Graph> ImportTfliteFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open model file"));
  std::ostringstream buf;
  buf << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ImportTfliteBytes(buf.str(), path);
}

}  // namespace q8::engine
