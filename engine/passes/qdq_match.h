// Pattern-matching helpers shared by the QDQ folding passes: recognising
// DequantizeLinear / QuantizeLinear nodes with constant parameters, single-consumer
// chains, and splicing fused nodes into the graph.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/ir/graph.h"

namespace q8::engine::passes {

// True for op `op` of the default ONNX domain.
bool IsOnnxOp(const ir::Node& n, const char* op);

// A DequantizeLinear (or QuantizeLinear) whose scale and zero point are constants.
struct QdqMatch {
  int node = -1;
  std::string q_value, scale, zero_point;  // the node's inputs ("" = omitted zero point)
};

// The DequantizeLinear producing `value`, when its parameters are constants.
std::optional<QdqMatch> MatchConstParamDq(const ir::Graph& g, const std::string& value);
// Node `index` when it is a QuantizeLinear with constant per-tensor parameters.
std::optional<QdqMatch> MatchPerTensorQ(const ir::Graph& g, int index);

// A node of the internal "q8" domain named like the node it replaces.
ir::Node InternalNode(const std::string& op_type, const std::string& name);

// True when a constant is absent (an omitted zero point means 0) or all its bytes are 0.
bool AllZero(const Tensor* t);

// The single consumer of `value` when it has exactly one and is not a graph output; -1 else.
int SoleConsumer(const ir::Graph& g, const std::string& value);

// The bias input of a fused op as a float constant: a float constant as is, or an int32
// constant behind a DequantizeLinear, evaluated here once, b = (b_q - b_zp) · b_scale, into a
// new constant "<value>:folded". nullopt when `value` is neither.
std::optional<std::string> FoldBiasToFloat(ir::Graph& g, const std::string& value);

// Ends a fused chain whose last absorbed value is `out`: absorbs node `activation` (a sole
// consumer of `out` the caller matched, or -1), then a per-tensor QuantizeLinear when it is
// the sole consumer of what remains, whose scale and zero point become the fused node's
// inputs y_scale_input and y_scale_input + 1; sets the fused node's output.
void EndFusedChain(const ir::Graph& g, int activation, std::string out, size_t y_scale_input,
                   ir::Node& fused, std::vector<bool>& erase);

// Replaces node replacements[i].first by replacements[i].second (ascending indices) and
// drops the nodes marked in `erase`, then removes nodes left dead. Each fused node takes
// its anchor's place: the chain it absorbed had single consumers, so every reader of its
// output still comes after it.
void SpliceFusions(ir::Graph& g, std::vector<std::pair<int, ir::Node>> replacements,
                   const std::vector<bool>& erase);

// Runs `fold(graph, index, erase)` → std::optional<ir::Node> on every node of one of `ops`
// not already absorbed, then splices the fused nodes in (SpliceFusions). `fold` marks the
// nodes it absorbs in `erase` only when it succeeds.
template <typename Fold>
void FoldMatches(ir::Graph& graph, std::initializer_list<const char*> ops, Fold fold) {
  std::vector<bool> erase(graph.nodes.size(), false);
  std::vector<std::pair<int, ir::Node>> replacements;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    bool match = false;
    for (const char* op : ops) match = match || IsOnnxOp(graph.nodes[i], op);
    if (erase[i] || !match) continue;
    if (auto q = fold(graph, static_cast<int>(i), erase)) {
      replacements.emplace_back(static_cast<int>(i), std::move(*q));
    }
  }
  SpliceFusions(graph, std::move(replacements), erase);
}

}  // namespace q8::engine::passes
