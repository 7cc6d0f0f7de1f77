#include "engine/ir/graph.h"

namespace q8::engine::ir {
namespace {

template <typename T>
const T* Find(const std::map<std::string, Attribute>& attrs, const std::string& key) {
  auto it = attrs.find(key);
  return it == attrs.end() ? nullptr : std::get_if<T>(&it->second);
}

}  // namespace

int64_t Node::GetInt(const std::string& key, int64_t fallback) const {
  const auto* v = Find<int64_t>(attrs, key);
  return v ? *v : fallback;
}

float Node::GetFloat(const std::string& key, float fallback) const {
  const auto* v = Find<float>(attrs, key);
  return v ? *v : fallback;
}

std::string Node::GetString(const std::string& key, const std::string& fallback) const {
  const auto* v = Find<std::string>(attrs, key);
  return v ? *v : fallback;
}

std::vector<int64_t> Node::GetInts(const std::string& key, std::vector<int64_t> fallback) const {
  const auto* v = Find<std::vector<int64_t>>(attrs, key);
  return v ? *v : fallback;
}

std::vector<float> Node::GetFloats(const std::string& key, std::vector<float> fallback) const {
  const auto* v = Find<std::vector<float>>(attrs, key);
  return v ? *v : fallback;
}

const std::string& Node::Input(size_t i) const {
  static const std::string kEmpty;
  return i < inputs.size() ? inputs[i] : kEmpty;
}

const Tensor* Graph::FindConstant(const std::string& value) const {
  auto it = constants.find(value);
  return it == constants.end() ? nullptr : it->second.get();
}

int Graph::ProducerOf(const std::string& value) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& out : nodes[i].outputs) {
      if (out == value) return static_cast<int>(i);
    }
  }
  return -1;
}

std::vector<int> Graph::ConsumersOf(const std::string& value) const {
  std::vector<int> result;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs) {
      if (in == value) {
        result.push_back(static_cast<int>(i));
        break;
      }
    }
  }
  return result;
}

bool Graph::IsGraphOutput(const std::string& value) const {
  for (const auto& out : outputs) {
    if (out.name == value) return true;
  }
  return false;
}

}  // namespace q8::engine::ir
