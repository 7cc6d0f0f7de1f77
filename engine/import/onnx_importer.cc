#include "engine/import/onnx_importer.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/import/onnx_op_versions.h"

namespace q8::engine {
namespace {

absl::StatusOr<DType> DTypeFromOnnx(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::UINT8: return DType::kUint8;
    case onnx::TensorProto::INT8: return DType::kInt8;
    case onnx::TensorProto::INT32: return DType::kInt32;
    case onnx::TensorProto::INT64: return DType::kInt64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    default: break;
  }
  return absl::UnimplementedError(absl::StrCat(
      "element type ", onnx::TensorProto::DataType_Name(elem_type),
      " is not supported (supported: float32, uint8, int8, int32, int64, bool)"));
}

// Copies typed repeated values into dst, narrowing where ONNX widens them
// (uint8/int8/bool values live in int32_data).
template <typename Dst, typename Src>
void CopyTyped(const Src& src, Tensor& dst) {
  auto* out = dst.data_as<Dst>();
  for (int i = 0; i < src.size(); ++i) out[i] = static_cast<Dst>(src[i]);
}

// A declared type and shape (graph input or output, value_info). A negative dim_value is
// not a symbolic dim (those are dim_param or no value): it is an error.
absl::StatusOr<ir::ValueInfo> ValueInfoFromOnnx(const onnx::ValueInfoProto& vi, const char* what) {
  ir::ValueInfo info;
  info.name = vi.name();
  if (!vi.type().has_tensor_type()) return info;
  const auto& tt = vi.type().tensor_type();
  auto dtype = DTypeFromOnnx(tt.elem_type());
  if (dtype.ok()) info.dtype = *dtype;
  if (tt.has_shape()) {
    Shape shape;
    for (const auto& dim : tt.shape().dim()) {
      if (dim.has_dim_value() && dim.dim_value() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(what, " '", vi.name(), "' declares dim ",
                                                       shape.size(), " as ", dim.dim_value(),
                                                       "; dims are >= 0, or symbolic (dim_param)"));
      }
      shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    }
    info.shape = std::move(shape);
  }
  return info;
}

// Why a graph input's declared type is not one the engine takes ("is a sequence ...",
// "has element type FLOAT16 ..."), for the message of the import that refuses it.
std::string UnsupportedInputType(const onnx::ValueInfoProto& vi) {
  const onnx::TypeProto& type = vi.type();
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType:
      break;
    case onnx::TypeProto::kSequenceType:
      return "is a sequence; the engine takes tensors only";
    case onnx::TypeProto::kMapType:
      return "is a map; the engine takes tensors only";
    case onnx::TypeProto::kOptionalType:
      return "is an optional; the engine takes tensors only";
    case onnx::TypeProto::kSparseTensorType:
      return "is a sparse tensor; the engine takes dense tensors only";
    default:
      return "declares no type; the engine needs a tensor element type";
  }
  const int elem_type = type.tensor_type().elem_type();
  if (elem_type == onnx::TensorProto::UNDEFINED) return "declares no element type";
  return absl::StrCat(
      "has element type ",
      onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(elem_type)),
      ", which the engine does not support (supported: float32, uint8, int8, "
      "int32, int64, bool)");
}

// An initializer may also be declared, as a graph input (IR < 4 lists every initializer
// there) or in value_info. The declaration must describe the data the file holds: an
// int8 weight declared float32 means the producer of the file and its reader disagree
// about what the bytes are, and nothing downstream can tell which is right.
absl::Status CheckDeclaredConstant(const onnx::ValueInfoProto& vi, const Tensor& value,
                                   const char* what) {
  if (!vi.type().has_tensor_type()) return absl::OkStatus();
  const auto& tt = vi.type().tensor_type();
  const auto declared = DTypeFromOnnx(tt.elem_type());
  const std::string declared_name =
      declared.ok() ? DTypeName(*declared)
                    : onnx::TensorProto::DataType_Name(
                          static_cast<onnx::TensorProto::DataType>(tt.elem_type()));
  bool shape_differs = false;
  if (tt.has_shape()) {
    shape_differs = tt.shape().dim_size() != static_cast<int>(value.shape().size());
    for (int d = 0; !shape_differs && d < tt.shape().dim_size(); ++d) {
      shape_differs = tt.shape().dim(d).has_dim_value() &&
                      tt.shape().dim(d).dim_value() != value.shape()[static_cast<size_t>(d)];
    }
  }
  if ((tt.elem_type() != 0 && (!declared.ok() || *declared != value.dtype())) || shape_differs) {
    Shape shape;
    for (const auto& dim : tt.shape().dim()) {
      shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("initializer '", vi.name(), "' holds ", DTypeName(value.dtype()), " ",
                     ShapeToString(value.shape()), " but its ", what, " declares ",
                     tt.elem_type() != 0 ? declared_name : "it", tt.has_shape() ? " " : "",
                     tt.has_shape() ? ShapeToString(shape) : "",
                     "; the declaration and the data must agree (re-export the model, or drop the "
                     "declaration)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ir::Attribute> AttributeFromOnnx(const onnx::AttributeProto& a) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return ir::Attribute(a.i());
    case onnx::AttributeProto::FLOAT: return ir::Attribute(a.f());
    case onnx::AttributeProto::STRING: return ir::Attribute(a.s());
    case onnx::AttributeProto::INTS:
      return ir::Attribute(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case onnx::AttributeProto::FLOATS:
      return ir::Attribute(std::vector<float>(a.floats().begin(), a.floats().end()));
    case onnx::AttributeProto::STRINGS:
      return ir::Attribute(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    default: break;
  }
  return absl::UnimplementedError(
      absl::StrCat("attribute '", a.name(), "' has kind ",
                   onnx::AttributeProto::AttributeType_Name(a.type()),
                   ", which the engine does not read"));
}

// A Constant node's value, from whichever of its value attributes is set.
absl::StatusOr<Tensor> ConstantValue(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute()) {
    if (a.name() == "value") return TensorFromOnnx(a.t());
    if (a.name() == "value_float") {
      Tensor t(DType::kFloat32, {});
      *t.data_as<float>() = a.f();
      return t;
    }
    if (a.name() == "value_int") {
      Tensor t(DType::kInt64, {});
      *t.data_as<int64_t>() = a.i();
      return t;
    }
    if (a.name() == "value_floats") {
      Tensor t(DType::kFloat32, {a.floats_size()});
      CopyTyped<float>(a.floats(), t);
      return t;
    }
    if (a.name() == "value_ints") {
      Tensor t(DType::kInt64, {a.ints_size()});
      CopyTyped<int64_t>(a.ints(), t);
      return t;
    }
  }
  return absl::UnimplementedError(
      "Constant has no value, value_float(s) or value_int(s) attribute (sparse and string "
      "constants are not supported)");
}

}  // namespace

absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return absl::UnimplementedError(absl::StrCat(
        "tensor '", proto.name(), "' keeps its data in an external file; save the model "
        "with its weights inside (onnx.save_model(..., save_as_external_data=False))"));
  }
  auto dtype = DTypeFromOnnx(proto.data_type());
  if (!dtype.ok()) {
    return absl::Status(dtype.status().code(),
                        absl::StrCat("tensor '", proto.name(), "': ", dtype.status().message()));
  }
  Shape shape(proto.dims().begin(), proto.dims().end());
  // The element count is checked against the data the file holds before anything is
  // allocated: dims are whatever the file says, the data is what it has.
  uint64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", proto.name(), "' has negative dim ", d));
    }
    if (d > 0 && elements > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d) /
                                DTypeSize(*dtype)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", proto.name(), "' has dims ",
                                                     ShapeToString(shape),
                                                     " whose byte size overflows 64 bits"));
    }
    elements *= static_cast<uint64_t>(d);
  }
  if (proto.has_raw_data()) {
    const uint64_t bytes = elements * DTypeSize(*dtype);
    if (proto.raw_data().size() != bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", proto.name(), "' of type ", DTypeName(*dtype), " and shape ",
                       ShapeToString(shape), " needs ", bytes, " bytes of raw_data, has ",
                       proto.raw_data().size()));
    }
  } else {
    uint64_t have = 0;
    switch (*dtype) {
      case DType::kFloat32:
        have = static_cast<uint64_t>(proto.float_data_size());
        break;
      case DType::kInt64:
        have = static_cast<uint64_t>(proto.int64_data_size());
        break;
      default:
        have = static_cast<uint64_t>(proto.int32_data_size());
        break;
    }
    if (have != elements) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", proto.name(), "' of shape ",
                                                     ShapeToString(shape), " needs ", elements,
                                                     " values, has ", have));
    }
  }
  Tensor t(*dtype, shape);
  if (proto.has_raw_data()) {
    if (elements > 0) std::memcpy(t.data(), proto.raw_data().data(), t.byte_size());
    return t;
  }
  switch (*dtype) {
    case DType::kFloat32: CopyTyped<float>(proto.float_data(), t); break;
    case DType::kInt64: CopyTyped<int64_t>(proto.int64_data(), t); break;
    case DType::kInt32: CopyTyped<int32_t>(proto.int32_data(), t); break;
    case DType::kUint8: CopyTyped<uint8_t>(proto.int32_data(), t); break;
    case DType::kInt8: CopyTyped<int8_t>(proto.int32_data(), t); break;
    case DType::kBool: CopyTyped<uint8_t>(proto.int32_data(), t); break;
    case DType::kUnknown: break;
  }
  return t;
}

absl::StatusOr<ir::Graph> ImportOnnxBytes(const std::string& bytes, const std::string& path) {
  if (bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the file is empty (0 bytes)"));
  }
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a valid ONNX model: its ", bytes.size(),
        " bytes do not parse as a protobuf ModelProto (the file is truncated or corrupt, or "
        "not ONNX)"));
  }
  if (!model.has_graph()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ONNX model has no graph (the file is truncated or not an ONNX model)"));
  }
  bool has_onnx_opset = false;
  int64_t onnx_opset = 0;
  for (const auto& opset : model.opset_import()) {
    if (!opset.domain().empty() && opset.domain() != "ai.onnx") continue;
    has_onnx_opset = true;
    onnx_opset = std::max<int64_t>(onnx_opset, opset.version());
  }
  if (!has_onnx_opset) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": the model imports no opset of the ONNX domain (opset_import is empty or "
                     "lists other domains only; the file may be truncated)"));
  }
  const onnx::GraphProto& g = model.graph();
  ir::Graph graph;
  graph.name = g.name();
  graph.producer = model.producer_name();
  if (!model.producer_version().empty()) {
    graph.producer = absl::StrCat(graph.producer, " ", model.producer_version());
  }
  // ONNX allows repeated keys; the last one wins, as onnx.helper.set_model_props' dict would.
  for (const auto& prop : model.metadata_props()) graph.metadata[prop.key()] = prop.value();

  for (const auto& init : g.initializer()) {
    auto t = TensorFromOnnx(init);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          absl::StrCat(path, ": initializer: ", t.status().message()));
    }
    if (graph.constants.count(init.name())) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": initializer '", init.name(),
                                                     "' is defined twice; names must be unique"));
    }
    graph.constants[init.name()] = std::make_shared<const Tensor>(std::move(*t));
  }
  std::unordered_set<std::string> defined;
  for (const auto& [name, _] : graph.constants) defined.insert(name);
  for (const auto& in : g.input()) {
    if (auto c = graph.constants.find(in.name()); c != graph.constants.end()) {
      // IR < 4 lists initializers as inputs too.
      if (auto s = CheckDeclaredConstant(in, *c->second, "graph input"); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
      }
      continue;
    }
    auto info = ValueInfoFromOnnx(in, "graph input");
    if (!info.ok()) {
      return absl::Status(info.status().code(), absl::StrCat(path, ": ", info.status().message()));
    }
    if (info->dtype == DType::kUnknown) {
      return absl::UnimplementedError(
          absl::StrCat(path, ": graph input '", in.name(), "' ", UnsupportedInputType(in)));
    }
    if (!defined.insert(info->name).second) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": graph input '", in.name(),
                                                     "' is listed twice; names must be unique"));
    }
    graph.inputs.push_back(*std::move(info));
  }
  for (const auto& vi : g.value_info()) {
    if (auto c = graph.constants.find(vi.name()); c != graph.constants.end()) {
      if (auto s = CheckDeclaredConstant(vi, *c->second, "value_info"); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
      }
      continue;
    }
    auto info = ValueInfoFromOnnx(vi, "value_info");
    if (!info.ok()) {
      return absl::Status(info.status().code(), absl::StrCat(path, ": ", info.status().message()));
    }
    graph.value_info[vi.name()] = *std::move(info);
  }

  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    const std::string node_name =
        n.name().empty() ? absl::StrCat(n.op_type(), "_", i) : n.name();
    auto where = [&] {
      return absl::StrCat(path, ": node '", node_name, "' (", n.op_type(), ")");
    };
    for (const auto& in : n.input()) {
      if (!in.empty() && !defined.count(in)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), ": input '", in,
            "' is not produced by an earlier node, a graph input or an initializer "
            "(graph not topologically sorted, or a dangling name)"));
      }
    }
    const bool onnx_domain = n.domain().empty() || n.domain() == "ai.onnx";
    // Old opsets select old op definitions; each op says which it implements.
    if (onnx_domain) {
      if (auto s = CheckOnnxOpVersion(n.op_type(), onnx_opset); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(where(), ": ", s.message()));
      }
    }
    if (n.op_type() == "Constant" && onnx_domain) {
      auto value = ConstantValue(n);
      if (!value.ok()) {
        return absl::Status(value.status().code(),
                            absl::StrCat(where(), ": ", value.status().message()));
      }
      if (n.output_size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(where(), ": needs exactly one output"));
      }
      if (!defined.insert(n.output(0)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), ": output '", n.output(0), "' is already defined earlier"));
      }
      graph.constants[n.output(0)] = std::make_shared<const Tensor>(std::move(*value));
      continue;
    }
    ir::Node node;
    node.name = node_name;
    node.op_type = n.op_type();
    node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      auto attr = AttributeFromOnnx(a);
      if (!attr.ok()) {
        return absl::Status(attr.status().code(),
                            absl::StrCat(where(), ": ", attr.status().message()));
      }
      node.attrs[a.name()] = std::move(*attr);
    }
    if (node.domain.empty() && node.op_type == "Softmax" && onnx_opset < 13) {
      // Softmax before opset 13 flattens its input to 2-D at `axis` (default 1) and
      // normalises each row over all the dims from `axis` on; 13 normalises along one
      // axis (default -1). The kernel implements both; say which.
      node.attrs["axis"] = node.GetInt("axis", 1);
      node.attrs["coerce_2d"] = int64_t{1};
    }
    // Each value has one definition (ONNX graphs are in SSA form): a second one would
    // leave readers before and after it disagreeing about which they see.
    for (const auto& out : node.outputs) {
      if (!out.empty() && !defined.insert(out).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), ": output '", out,
            "' is already defined by an initializer, a graph input or an earlier node; "
            "value names must be unique"));
      }
    }
    graph.nodes.push_back(std::move(node));
  }

  for (const auto& out : g.output()) {
    if (!defined.count(out.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": graph output '", out.name(), "' is not produced by any node"));
    }
    auto info = ValueInfoFromOnnx(out, "graph output");
    if (!info.ok()) {
      return absl::Status(info.status().code(), absl::StrCat(path, ": ", info.status().message()));
    }
    graph.outputs.push_back(*std::move(info));
  }
  return graph;
}

absl::StatusOr<ir::Graph> ImportOnnxFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open model file"));
  std::ostringstream buf;
  buf << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ImportOnnxBytes(buf.str(), path);
}

}  // namespace q8::engine
