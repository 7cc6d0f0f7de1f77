// The engine's intermediate representation: one graph type that every importer
// (ONNX today; GraphDef and TFLite later) produces and every pass and the compiler
// consume. Plain data, no behaviour beyond look-ups; not thread-safe while mutated,
// immutable once compiled.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/engine.h"

namespace q8::engine::ir {

// An attribute value: the ONNX attribute kinds the engine reads.
using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>>;

struct Node {
  std::string name;      // unique within the graph (importers generate one if empty)
  std::string op_type;   // "Gemm", "QuantizeLinear", or an internal op such as "QGemm"
  std::string domain;    // "" for ONNX, "com.microsoft", "q8" for internal ops
  std::vector<std::string> inputs;   // value names; "" marks an omitted optional input
  std::vector<std::string> outputs;  // value names
  std::map<std::string, Attribute> attrs;

  // Attribute look-ups with defaults; a present attribute of another kind is
  // treated as absent (importers validate kinds where it matters).
  int64_t GetInt(const std::string& key, int64_t fallback) const;
  float GetFloat(const std::string& key, float fallback) const;
  std::string GetString(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> GetInts(const std::string& key, std::vector<int64_t> fallback = {}) const;
  std::vector<float> GetFloats(const std::string& key, std::vector<float> fallback = {}) const;
  bool Has(const std::string& key) const { return attrs.count(key) > 0; }
  // Input i, or "" when absent.
  const std::string& Input(size_t i) const;
};

// Type and shape of a value; shape dims are -1 where unknown until run time.
struct ValueInfo {
  std::string name;
  DType dtype = DType::kUnknown;
  std::optional<Shape> shape;  // nullopt = rank unknown
};

struct Graph {
  std::string name;
  std::string producer;
  std::vector<ValueInfo> inputs;    // runtime inputs (initializers excluded)
  std::vector<ValueInfo> outputs;
  std::vector<Node> nodes;          // topologically sorted (importers guarantee it)
  std::unordered_map<std::string, std::shared_ptr<const Tensor>> constants;
  std::unordered_map<std::string, ValueInfo> value_info;  // intermediate annotations, if any
  // Value → the float name it stands for, when the importer knows it (a renamed quantized
  // tensor, e.g. "conv1/Relu_eightbit_dequantize:0" → "conv1/Relu:0"). Described, not run.
  std::unordered_map<std::string, std::string> original_names;
  // Values whose names the importer made up because the file has none (TFLite's unnamed
  // graph inputs / outputs: "input_0", "output_0"). Described, not run.
  std::set<std::string> generated_names;
  // Free-form key/value metadata of the file (ONNX metadata_props); passes leave it alone.
  std::map<std::string, std::string> metadata;

  const Tensor* FindConstant(const std::string& value) const;
  // Index of the node producing `value`, or -1 (graph input, constant, unknown).
  int ProducerOf(const std::string& value) const;
  // Indices of the nodes consuming `value`, in order.
  std::vector<int> ConsumersOf(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const;
};

}  // namespace q8::engine::ir
