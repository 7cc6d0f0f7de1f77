// Constant folding: a node whose inputs are all constants (a Shape-free subgraph of
// initializers, Constant nodes, arithmetic on them) is evaluated once, here, with the same
// kernel the compiled model would run, and its outputs become constants. So load pays for
// it once and every run skips it, and the folded values are exactly what running would give.
//
// Best effort: a node the registry does not know, or whose evaluation fails, stays in the
// graph, and compiling it reports the problem with the usual message. oneDNN errors are
// therefore caught here too (the compiler's Guard is the other place): a failure here only
// means "do not fold". So does running out of memory (a constant Expand or Tile to a
// shape nobody can hold).
#include <new>

#include "engine/dnnl/kernel.h"
#include "engine/passes/passes.h"

namespace q8::engine::passes {
namespace {

using dnnl_backend::ValueDesc;

// Runs node `n` on its constant inputs; nullopt when it cannot be evaluated here.
std::optional<std::vector<Tensor>> Evaluate(const ir::Node& n, const ir::Graph& g) {
  const auto& registry = dnnl_backend::KernelRegistry();
  auto builder = registry.find(dnnl_backend::OpKey(n));
  if (builder == registry.end()) return std::nullopt;
  try {
    auto built = builder->second(n, g);
    if (!built.ok()) return std::nullopt;
    std::vector<ValueDesc> descs;
    std::vector<const void*> inputs;
    for (const std::string& name : built->runtime_inputs) {
      auto c = g.constants.find(name);
      if (c == g.constants.end()) return std::nullopt;
      const Tensor& t = *c->second;
      if (t.num_elements() == 0 && !built->kernel->accepts_empty_tensors()) return std::nullopt;
      descs.push_back(ValueDesc{t.dtype(), t.shape(), dnnl_backend::Layout::kPlain, c->second});
      inputs.push_back(t.data());
    }
    auto planned = built->kernel->Plan(descs);
    if (!planned.ok() || planned->outputs.size() != n.outputs.size()) return std::nullopt;
    std::vector<Tensor> outputs;
    std::vector<void*> out_ptrs;
    for (const ValueDesc& d : planned->outputs) {
      if (d.layout != dnnl_backend::Layout::kPlain) return std::nullopt;
      outputs.emplace_back(d.dtype, d.shape);
      out_ptrs.push_back(outputs.back().data());
    }
    Tensor scratchpad(DType::kUint8, {static_cast<int64_t>(planned->step->scratchpad_bytes()) + 1});
    Tensor workspace(DType::kUint8, {static_cast<int64_t>(planned->step->workspace_bytes()) + 1});
    dnnl::stream stream(dnnl_backend::CpuEngine());
    planned->step->Execute(dnnl_backend::StepContext{stream, scratchpad.data(), workspace.data(),
                                                     inputs, out_ptrs});
    stream.wait();
    return outputs;
  } catch (const dnnl::error&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;  // an output too large to hold: the compiler's plan reports it
  }
}

bool AllInputsConstant(const ir::Node& n, const ir::Graph& g) {
  for (const std::string& in : n.inputs) {
    if (!in.empty() && g.FindConstant(in) == nullptr) return false;
  }
  return !n.inputs.empty();
}

}  // namespace

absl::Status FoldConstants(ir::Graph& graph) {
  std::vector<ir::Node> kept;
  kept.reserve(graph.nodes.size());
  for (ir::Node& n : graph.nodes) {
    // Quantize/Dequantize of constant weights stay: the QDQ folds read them as patterns.
    const bool pattern_anchor = (n.op_type == "DequantizeLinear" || n.op_type == "QuantizeLinear");
    std::optional<std::vector<Tensor>> values;
    if (!pattern_anchor && AllInputsConstant(n, graph)) values = Evaluate(n, graph);
    if (!values) {
      kept.push_back(std::move(n));
      continue;
    }
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      if (n.outputs[o].empty()) continue;
      graph.constants[n.outputs[o]] = std::make_shared<const Tensor>(std::move((*values)[o]));
    }
  }
  graph.nodes = std::move(kept);
  return absl::OkStatus();
}

}  // namespace q8::engine::passes
