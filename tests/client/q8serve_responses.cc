#include "tests/client/q8serve_responses.h"

namespace q8::client {
namespace {

struct BindingSpec {
  std::string logical_name;
  std::string tensor_name;
  std::string dtype;
  std::vector<int64_t> shape;
  q8serve::v1::QuantParams quant;
  std::string rule;
  std::string source;
  std::string conversion;
  std::string tensor_dtype;
  std::string explanation;
};

void SetBinding(const BindingSpec& spec, q8serve::v1::TensorBinding& b) {
  b.set_logical_name(spec.logical_name);
  b.set_tensor_name(spec.tensor_name);
  b.set_dtype(spec.dtype);
  for (int64_t d : spec.shape) b.add_shape(d);
  *b.mutable_quant() = spec.quant;
  b.set_rule(spec.rule);
  b.set_source(spec.source);
  b.set_conversion(spec.conversion);
  b.set_tensor_dtype(spec.tensor_dtype);
  b.set_explanation(spec.explanation);
}

void AddNode(q8serve::v1::GetGraphResponse& g, const std::string& op, const std::string& name,
             const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
  q8serve::v1::GraphNode* n = g.add_nodes();
  n->set_op_type(op);
  n->set_name(name);
  for (const std::string& s : inputs) n->add_inputs(s);
  for (const std::string& s : outputs) n->add_outputs(s);
}

}  // namespace

q8serve::v1::QuantParams PerTensorQuant(float scale, int64_t zero_point,
                                        const std::string& storage_dtype) {
  q8serve::v1::QuantParams q;
  q.add_scales(scale);
  q.add_zero_points(zero_point);
  q.set_storage_dtype(storage_dtype);
  return q;
}

q8serve::v1::GraphTensor* AddTensor(q8serve::v1::GetGraphResponse& graph, const std::string& name,
                                    const std::string& dtype, const std::vector<int64_t>& shape,
                                    const std::string& producer_op) {
  q8serve::v1::GraphTensor* t = graph.add_tensors();
  t->set_name(name);
  t->set_dtype(dtype);
  t->set_has_shape(true);
  for (int64_t d : shape) t->add_shape(d);
  t->set_producer_op(producer_op);
  return t;
}

q8serve::v1::GetGraphResponse DigitsGraphSlice() {
  q8serve::v1::GetGraphResponse g;
  g.set_model_name("digits");
  g.set_version(1);
  g.set_format("onnx");
  g.set_path("/models/digits/1/model.onnx");
  g.set_total_tensors(23);
  g.set_total_nodes(9);

  AddTensor(g, "input", "float32", {-1, 64}, "")->set_is_input(true);
  *AddTensor(g, "input_quantized", "uint8", {-1, 64}, "QuantizeLinear")->mutable_quant() =
      PerTensorQuant(1.0f / 255, 0, "uint8");
  q8serve::v1::QuantParams* w =
      AddTensor(g, "fc1.weight_quantized", "int8", {64, 32}, "")->mutable_quant();
  w->set_per_channel(true);
  w->set_axis(0);
  w->set_storage_dtype("int8");
  for (int i = 0; i < 64; ++i) {
    w->add_scales(0.01f);
    w->add_zero_points(0);
  }
  g.add_tensors()->set_name("fc1_out");
  AddTensor(g, "logits", "float32", {-1, 10}, "DequantizeLinear")->set_is_output(true);

  AddNode(g, "QuantizeLinear", "quant_input", {"input", "input_scale", "input_zero_point"},
          {"input_quantized"});
  AddNode(g, "QLinearMatMul", "", {"input_quantized", "", "fc1.weight_quantized"}, {"fc1_out"});
  return g;
}

q8serve::v1::GetSignatureResponse DigitsSignature() {
  q8serve::v1::GetSignatureResponse s;
  s.set_model_name("digits");
  s.set_version(1);
  s.set_signature_name("serving_default");
  SetBinding({.logical_name = "images",
              .tensor_name = "input_quantized",
              .dtype = "float32",
              .shape = {-1, 64},
              .quant = PerTensorQuant(1.0f / 255, 0, "uint8"),
              .rule = "explicit",
              .source = "signatures.pbtxt",
              .conversion = "quantize",
              .tensor_dtype = "uint8",
              .explanation = "signatures.pbtxt binds images to input_quantized"},
             *s.add_inputs());
  SetBinding({.logical_name = "probabilities",
              .tensor_name = "logits_quantized",
              .dtype = "float32",
              .shape = {-1, 10},
              .quant = PerTensorQuant(0.125f, -3, "int8"),
              .rule = "boundary_walk",
              .source = "reference model_float.onnx",
              .conversion = "dequantize",
              .tensor_dtype = "int8",
              .explanation = "graph output logits is DequantizeLinear(logits_quantized); bound "
                             "before the dequantize"},
             *s.add_outputs());
  SetBinding({.logical_name = "raw",
              .tensor_name = "logits_quantized",
              .dtype = "int8",
              .shape = {-1, 10},
              .quant = PerTensorQuant(0.125f, -3, "int8"),
              .rule = "graph_output",
              .source = "graph",
              .conversion = "",  // Sent as is.
              .tensor_dtype = "int8",
              .explanation = ""},
             *s.add_outputs());
  return s;
}

}  // namespace q8::client
