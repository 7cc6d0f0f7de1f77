// Small ONNX models built in code, for tests that need a precise graph (an unsupported
// op, a dangling input) rather than a real model.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace q8::testing {

inline onnx::ModelProto MakeModel(int opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("q8serve-test");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("test");
  return m;
}

inline void AddInput(onnx::GraphProto* g, const std::string& name, int elem_type,
                     const std::vector<int64_t>& dims, bool output = false) {
  auto* vi = output ? g->add_output() : g->add_input();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  for (int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0) dim->set_dim_param("N"); else dim->set_dim_value(d);
  }
}

inline onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op, const std::string& name,
                                const std::vector<std::string>& in,
                                const std::vector<std::string>& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

// A Constant node whose value is a 1-D float tensor (its value_floats attribute).
inline onnx::NodeProto* AddConstantFloats(onnx::GraphProto* g, const std::string& name,
                                          const std::string& output, const std::vector<float>& values) {
  auto* n = AddNode(g, "Constant", name, {}, {output});
  auto* a = n->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float v : values) a->add_floats(v);
  return n;
}

// A constant tensor stored as raw_data; T must match elem_type's element size.
template <typename T>
inline void AddInitializer(onnx::GraphProto* g, const std::string& name, int elem_type,
                           const std::vector<int64_t>& dims, const std::vector<T>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

inline std::string WriteModel(const onnx::ModelProto& m, const std::string& file_name) {
  auto dir = std::filesystem::temp_directory_path() / "q8serve-engine-test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / file_name).string();
  std::ofstream(path, std::ios::binary) << m.SerializeAsString();
  return path;
}

}  // namespace q8::testing
