// Compile and run. This is the one file where oneDNN exceptions are caught and turned
// into Status values: builders, planners and steps below it may throw dnnl::error.
#include "engine/dnnl/compiled_model.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/dnnl/run_context_impl.h"

namespace q8::engine::dnnl_backend {
namespace {

constexpr size_t kAlign = 64;
constexpr int64_t kMaxElements = int64_t{1} << 31;  // per tensor; larger is a client error

size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Runs fn, converting exceptions that cross from oneDNN or allocation into a Status.
template <typename Fn>
auto Guard(const std::string& where, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat(where, ": oneDNN error: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(where, ": out of memory"));
  }
}

std::string SupportedOps() {
  std::vector<std::string> ops;
  for (const auto& [key, _] : KernelRegistry()) {
    if (key.rfind("q8.", 0) != 0) ops.push_back(key);  // internal ops are not user-facing
  }
  return absl::StrJoin(ops, ", ");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledModel>> CompiledModel::Create(
    const ir::Graph& graph, ModelInfo info, const LoadOptions& options) {
  const std::string path = info.path;
  std::shared_ptr<CompiledModel> model(new CompiledModel(std::move(info), options));
  std::unordered_map<std::string, int> ids;
  auto add_value = [&](Value v) {
    ids[v.name] = static_cast<int>(model->values_.size());
    model->values_.push_back(std::move(v));
    return static_cast<int>(model->values_.size()) - 1;
  };
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    add_value(Value{graph.inputs[i].name, ValueKind::kInput, static_cast<int>(i), nullptr});
  }
  auto value_id = [&](const std::string& name) -> int {
    if (auto it = ids.find(name); it != ids.end()) return it->second;
    auto c = graph.constants.find(name);
    if (c == graph.constants.end()) return -1;
    return add_value(Value{name, ValueKind::kConstant, -1, c->second});
  };

  const auto& registry = KernelRegistry();
  for (const ir::Node& node : graph.nodes) {
    const std::string where = absl::StrCat(path, ": node '", node.name, "' (", node.op_type, ")");
    auto builder = registry.find(OpKey(node));
    if (builder == registry.end()) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": op ", OpKey(node), " is not supported by the q8serve engine. Supported ops: ",
          SupportedOps()));
    }
    absl::StatusOr<BuiltKernel> built =
        Guard(where, [&]() -> absl::StatusOr<BuiltKernel> { return builder->second(node, graph); });
    if (!built.ok()) {
      return absl::Status(built.status().code(), absl::StrCat(where, ": ", built.status().message()));
    }
    CompiledNode compiled{node.name, node.op_type, std::move(built->kernel), {}, {}};
    for (const std::string& in : built->runtime_inputs) {
      int id = value_id(in);
      if (id < 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": input '", in, "' is undefined"));
      }
      compiled.inputs.push_back(id);
    }
    for (const std::string& out : node.outputs) {
      if (ids.count(out)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": output '", out, "' is produced more than once"));
      }
      compiled.outputs.push_back(add_value(Value{out, ValueKind::kIntermediate, -1, nullptr}));
    }
    if (compiled.kernel->is_int8()) ++model->info_.num_int8_kernels;
    model->nodes_.push_back(std::move(compiled));
  }
  for (const auto& out : graph.outputs) {
    int id = value_id(out.name);
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": graph output '", out.name, "' is not produced by any node"));
    }
    model->output_values_.push_back(id);
  }
  return std::shared_ptr<const CompiledModel>(std::move(model));
}

absl::Status CompiledModel::ValidateInputs(absl::Span<const TensorView> inputs) const {
  if (inputs.size() != info_.inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat("model takes ", info_.inputs.size(),
                                                   " inputs, got ", inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& want = info_.inputs[i];
    const TensorView& got = inputs[i];
    if (got.dtype != want.dtype) {
      return absl::InvalidArgumentError(absl::StrCat("input '", want.name, "' must be ",
                                                     DTypeName(want.dtype), ", got ",
                                                     DTypeName(got.dtype)));
    }
    bool fits = got.shape.size() == want.shape.size();
    int64_t elements = 1;
    for (size_t d = 0; fits && d < got.shape.size(); ++d) {
      fits = got.shape[d] > 0 && (want.shape[d] < 0 || want.shape[d] == got.shape[d]);
      elements *= std::max<int64_t>(got.shape[d], 1);
      fits = fits && elements <= kMaxElements;
    }
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", want.name, "' must have shape ", ShapeToString(want.shape),
          " (? = any positive size), got ", ShapeToString(got.shape)));
    }
    if (got.data == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("input '", want.name, "' has no data"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const CompiledModel::Plan>> CompiledModel::BuildPlan(
    absl::Span<const TensorView> inputs) const {
  auto plan = std::make_shared<Plan>();
  plan->values.resize(values_.size());
  plan->arena_offset.assign(values_.size(), 0);
  for (size_t v = 0; v < values_.size(); ++v) {
    if (values_[v].kind == ValueKind::kInput) {
      const TensorView& in = inputs[values_[v].input_index];
      plan->values[v] = ValueDesc{in.dtype, in.shape};
    } else if (values_[v].kind == ValueKind::kConstant) {
      plan->values[v] = ValueDesc{values_[v].constant->dtype(), values_[v].constant->shape()};
    }
  }
  // Every intermediate gets its own arena range for now; liveness-based reuse would
  // shrink the arena for deep graphs (engine issue).
  for (const CompiledNode& node : nodes_) {
    std::vector<ValueDesc> in_descs;
    for (int id : node.inputs) in_descs.push_back(plan->values[id]);
    const std::string where = absl::StrCat("node '", node.name, "' (", node.op, ")");
    absl::StatusOr<PlannedStep> planned = Guard(
        where, [&]() -> absl::StatusOr<PlannedStep> { return node.kernel->Plan(in_descs); });
    if (!planned.ok()) {
      return absl::Status(planned.status().code(),
                          absl::StrCat(where, ": ", planned.status().message()));
    }
    if (planned->outputs.size() != node.outputs.size()) {
      return absl::InternalError(absl::StrCat(where, ": kernel planned ", planned->outputs.size(),
                                              " outputs for ", node.outputs.size()));
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const int id = node.outputs[o];
      plan->values[id] = planned->outputs[o];
      plan->arena_offset[id] = plan->arena_bytes;
      const int64_t n = NumElements(planned->outputs[o].shape);
      if (n > kMaxElements) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": output would have ", n, " elements, more than the limit ", kMaxElements));
      }
      plan->arena_bytes += AlignUp(static_cast<size_t>(n) * DTypeSize(planned->outputs[o].dtype));
    }
    plan->scratchpad_bytes = std::max(plan->scratchpad_bytes, planned->step->scratchpad_bytes());
    plan->steps.push_back(std::move(planned->step));
  }
  return std::shared_ptr<const Plan>(std::move(plan));
}

absl::StatusOr<std::shared_ptr<const CompiledModel::Plan>> CompiledModel::GetPlan(
    absl::Span<const TensorView> inputs) const {
  std::vector<int64_t> key;
  for (const auto& in : inputs) {
    key.push_back(static_cast<int64_t>(in.shape.size()));
    key.insert(key.end(), in.shape.begin(), in.shape.end());
  }
  {
    absl::MutexLock lock(&plans_mu_);
    for (auto& cached : plans_) {
      if (cached.key == key) {
        cached.last_used = ++plan_clock_;
        return cached.plan;
      }
    }
  }
  auto plan = BuildPlan(inputs);
  if (!plan.ok()) return plan.status();
  absl::MutexLock lock(&plans_mu_);
  for (auto& cached : plans_) {
    if (cached.key == key) return cached.plan;  // another thread planned it meanwhile
  }
  if (plans_.size() >= std::max<size_t>(options_.max_cached_plans, 1)) {
    auto lru = std::min_element(plans_.begin(), plans_.end(), [](const auto& a, const auto& b) {
      return a.last_used < b.last_used;
    });
    plans_.erase(lru);
  }
  plans_.push_back(CachedPlan{std::move(key), *plan, ++plan_clock_});
  return *plan;
}

absl::StatusOr<std::vector<Tensor>> CompiledModel::Run(RunContext& ctx,
                                                       absl::Span<const TensorView> inputs) const {
  if (auto s = ValidateInputs(inputs); !s.ok()) return s;
  auto plan_or = GetPlan(inputs);
  if (!plan_or.ok()) return plan_or.status();
  const Plan& plan = **plan_or;
  if (options_.threads > 0) omp_set_num_threads(options_.threads);

  return Guard(info_.path, [&]() -> absl::StatusOr<std::vector<Tensor>> {
    RunContext::Impl& rc = ctx.impl();
    char* arena = static_cast<char*>(rc.arena.Reserve(plan.arena_bytes));
    void* scratchpad = rc.scratchpad.Reserve(plan.scratchpad_bytes);

    // Graph outputs produced by a node are written straight into the returned tensors.
    std::vector<Tensor> outputs(output_values_.size());
    std::vector<void*> buffers(values_.size(), nullptr);
    for (size_t v = 0; v < values_.size(); ++v) {
      switch (values_[v].kind) {
        case ValueKind::kInput:
          buffers[v] = const_cast<void*>(inputs[values_[v].input_index].data);
          break;
        case ValueKind::kConstant:
          buffers[v] = const_cast<void*>(values_[v].constant->data());
          break;
        case ValueKind::kIntermediate:
          buffers[v] = arena + plan.arena_offset[v];
          break;
      }
    }
    std::vector<int> written_by(values_.size(), -1);  // output index a node writes into
    for (size_t o = 0; o < output_values_.size(); ++o) {
      const int v = output_values_[o];
      if (values_[v].kind != ValueKind::kIntermediate || written_by[v] >= 0) continue;
      outputs[o] = Tensor(plan.values[v].dtype, plan.values[v].shape);
      buffers[v] = outputs[o].data();
      written_by[v] = static_cast<int>(o);
    }

    std::vector<const void*> in_ptrs;
    std::vector<void*> out_ptrs;
    for (size_t n = 0; n < nodes_.size(); ++n) {
      in_ptrs.clear();
      out_ptrs.clear();
      for (int id : nodes_[n].inputs) in_ptrs.push_back(buffers[id]);
      for (int id : nodes_[n].outputs) out_ptrs.push_back(buffers[id]);
      plan.steps[n]->Execute(StepContext{rc.stream, scratchpad, in_ptrs, out_ptrs});
    }
    rc.stream.wait();

    // Outputs that are graph inputs, constants, or listed twice: copy.
    for (size_t o = 0; o < output_values_.size(); ++o) {
      const int v = output_values_[o];
      if (written_by[v] == static_cast<int>(o)) continue;
      outputs[o] = Tensor(plan.values[v].dtype, plan.values[v].shape);
      std::memcpy(outputs[o].data(), buffers[v], outputs[o].byte_size());
    }
    return outputs;
  });
}

}  // namespace q8::engine::dnnl_backend
