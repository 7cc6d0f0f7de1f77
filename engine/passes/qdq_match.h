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
// A DequantizeLinear with constant per-tensor parameters producing `value`.
std::optional<QdqMatch> MatchPerTensorDq(const ir::Graph& g, const std::string& value);
// The constant bounds of a Clip (opset >= 11 inputs, or opset 6 attributes); nullopt when a
// bound is a runtime input.
std::optional<std::pair<float, float>> ClipBounds(const ir::Graph& g, const ir::Node& clip);
// Node `index` when it is a QuantizeLinear with constant per-tensor parameters.
std::optional<QdqMatch> MatchPerTensorQ(const ir::Graph& g, int index);

// A node of the internal "q8" domain named like the node it replaces.
ir::Node InternalNode(const std::string& op_type, const std::string& name);

// True when a constant is absent (an omitted zero point means 0) or all its bytes are 0.
bool AllZero(const Tensor* t);

// The single consumer of `value` when it has exactly one and is not a graph output; -1 else.
int SoleConsumer(const ir::Graph& g, const std::string& value);

// SoleConsumer when that consumer is the ONNX op `op`; -1 otherwise.
int SoleConsumerOp(const ir::Graph& g, const std::string& value, const char* op);

// The input of binary node n that is not `value`, or "" when n does not read `value`.
std::string OtherInput(const ir::Node& n, const std::string& value);

// The bias input of a fused op as a float constant: a float constant as is, or an int32
// constant behind a DequantizeLinear, evaluated here once, b = (b_q - b_zp) · b_scale, into a
// new constant "<value>:folded". nullopt when `value` is neither.
std::optional<std::string> FoldBiasToFloat(ir::Graph& g, const std::string& value);

// The bias of a fused int8 convolution / matrix product whose input and weights are
// dequantized with scales `x_scale` (per-tensor) and `w_scale` (per-tensor or per output
// channel): the int32 constant itself when the bias is DequantizeLinear(b_q, s_b, 0) with
// s_b[c] = s_x·s_w[c] (to float precision), i.e. already in the accumulator domain. That is
// how TFLite's kernels (reference and XNNPACK) and ORT's QDQ Conv read a bias: b_q added to
// the int32 accumulator, exactly, its scale never used. Otherwise FoldBiasToFloat.
std::optional<std::string> FoldBias(ir::Graph& g, const std::string& value,
                                    const std::string& x_scale, const std::string& w_scale);

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
