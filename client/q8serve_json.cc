#include "client/q8serve_json.h"

#include <cstdint>

#include "client/json.h"

namespace q8::client {
namespace {

void WriteInts(const google::protobuf::RepeatedField<int64_t>& values, JsonWriter& w) {
  w.BeginArray();
  for (int64_t v : values) w.Int(v);
  w.EndArray();
}

void WriteStrings(const google::protobuf::RepeatedPtrField<std::string>& values, JsonWriter& w) {
  w.BeginArray();
  for (const std::string& v : values) w.String(v);
  w.EndArray();
}

// Writes the value of a "quant" key: null when unset.
void WriteQuant(bool has_quant, const q8serve::v1::QuantParams& q, JsonWriter& w) {
  if (!has_quant) {
    w.Null();
    return;
  }
  w.BeginObject().Key("scales").BeginArray();
  for (float s : q.scales()) w.Float(s);
  w.EndArray().Key("zero_points");
  WriteInts(q.zero_points(), w);
  w.Key("per_channel").Bool(q.per_channel());
  w.Key("axis").Int(q.axis());
  w.Key("storage_dtype").String(q.storage_dtype());
  w.EndObject();
}

void WriteBinding(const q8serve::v1::TensorBinding& b, JsonWriter& w) {
  w.BeginObject();
  w.Key("logical_name").String(b.logical_name());
  w.Key("tensor_name").String(b.tensor_name());
  w.Key("dtype").String(b.dtype());
  w.Key("shape");
  WriteInts(b.shape(), w);
  w.Key("quant");
  WriteQuant(b.has_quant(), b.quant(), w);
  w.Key("rule").String(b.rule());
  w.Key("explanation").String(b.explanation());
  w.Key("source").String(b.source());
  w.Key("conversion").String(b.conversion());
  w.Key("tensor_dtype").String(b.tensor_dtype());
  w.Key("tensor_name_generated").Bool(b.tensor_name_generated());
  w.EndObject();
}

void WriteGraphTensor(const q8serve::v1::GraphTensor& t, JsonWriter& w) {
  w.BeginObject();
  w.Key("name").String(t.name());
  w.Key("dtype").String(t.dtype());
  w.Key("shape");
  if (t.has_shape()) {
    WriteInts(t.shape(), w);
  } else {
    w.Null();
  }
  w.Key("quant");
  WriteQuant(t.has_quant(), t.quant(), w);
  w.Key("producer_op").String(t.producer_op());
  w.Key("producer_node").String(t.producer_node());
  w.Key("is_input").Bool(t.is_input());
  w.Key("is_output").Bool(t.is_output());
  w.EndObject();
}

void WriteGraphNode(const q8serve::v1::GraphNode& n, JsonWriter& w) {
  w.BeginObject();
  w.Key("name").String(n.name());
  w.Key("op_type").String(n.op_type());
  w.Key("inputs");
  WriteStrings(n.inputs(), w);
  w.Key("outputs");
  WriteStrings(n.outputs(), w);
  w.EndObject();
}

}  // namespace

std::string SignatureToJson(const q8serve::v1::GetSignatureResponse& signature) {
  JsonWriter w;
  w.BeginObject();
  w.Key("model_name").String(signature.model_name());
  w.Key("version").Int(signature.version());
  w.Key("signature_name").String(signature.signature_name());
  w.Key("inputs").BeginArray();
  for (const auto& b : signature.inputs()) WriteBinding(b, w);
  w.EndArray().Key("outputs").BeginArray();
  for (const auto& b : signature.outputs()) WriteBinding(b, w);
  w.EndArray().EndObject();
  return w.str();
}

std::string GraphToJson(const q8serve::v1::GetGraphResponse& graph) {
  JsonWriter w;
  w.BeginObject();
  w.Key("model_name").String(graph.model_name());
  w.Key("version").Int(graph.version());
  w.Key("format").String(graph.format());
  w.Key("path").String(graph.path());
  w.Key("tensors").BeginArray();
  for (const auto& t : graph.tensors()) WriteGraphTensor(t, w);
  w.EndArray().Key("nodes").BeginArray();
  for (const auto& n : graph.nodes()) WriteGraphNode(n, w);
  w.EndArray();
  w.Key("total_tensors").Int(graph.total_tensors());
  w.Key("total_nodes").Int(graph.total_nodes());
  w.EndObject();
  return w.str();
}

}  // namespace q8::client
