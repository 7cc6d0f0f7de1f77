// Compile and run. This is the one file where oneDNN exceptions are caught and turned
// into Status values: builders, planners and steps below it may throw dnnl::error.
#include "engine/dnnl/compiled_model.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/dnnl/arena_planner.h"
#include "engine/dnnl/reorder_step.h"
#include "engine/dnnl/run_context_impl.h"

namespace q8::engine::dnnl_backend {
namespace {

// The OpenMP team size for LoadOptions::threads. Always set, 0 included: the setting sticks
// to the calling thread, and a load-pool or worker thread that last ran a 1-thread model
// would otherwise run an all-cores model on 1 thread. 0 = OMP_NUM_THREADS if set, else
// every processor.
int TeamSize(int threads) {
  if (threads > 0) return threads;
  static const int all = [] {
    const char* env = std::getenv("OMP_NUM_THREADS");
    const int n = env != nullptr ? std::atoi(env) : 0;
    return n > 0 ? n : omp_get_num_procs();
  }();
  return all;
}

constexpr int64_t kMaxElements = int64_t{1} << 31;  // per tensor; larger is a client error

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
  // Kernels pack weights (oneDNN reorders) now: with the model's team size, as Run does.
  omp_set_num_threads(TeamSize(options.threads));
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

  std::vector<int> producer;  // per value id: index into nodes_ of its producer, or -1
  std::vector<bool> specialised(graph.inputs.size(), false);
  const auto& registry = KernelRegistry();
  for (const ir::Node& node : graph.nodes) {
    const std::string where = absl::StrCat(path, ": node '", node.name, "' (", node.op_type, ")");
    auto builder = registry.find(OpKey(node));
    if (builder == registry.end()) {
      return absl::UnimplementedError(
          absl::StrCat(where, ": op ", OpKey(node),
                       " is not supported by the q8serve engine. Supported ops: ", SupportedOps()));
    }
    absl::StatusOr<BuiltKernel> built =
        Guard(where, [&]() -> absl::StatusOr<BuiltKernel> { return builder->second(node, graph); });
    if (!built.ok()) {
      return absl::Status(built.status().code(),
                          absl::StrCat(where, ": ", built.status().message()));
    }
    CompiledNode compiled{node.name, node.op_type, std::move(built->kernel), {}, {}};
    for (const std::string& in : built->runtime_inputs) {
      int id = value_id(in);
      if (id < 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": input '", in, "' is undefined"));
      }
      compiled.inputs.push_back(id);
    }
    // Arguments Plan reads the contents of: each must be known when a plan is made.
    producer.resize(model->values_.size(), -1);
    for (size_t position : built->value_inputs) {
      const int id = compiled.inputs.at(position);
      const Value& v = model->values_[id];
      const std::string arg = absl::StrCat(where, ": input #", position, " ('", v.name, "')");
      if (v.kind == ValueKind::kInput) {
        const DType dtype = graph.inputs[v.input_index].dtype;
        if (dtype != DType::kInt64) {
          return absl::InvalidArgumentError(absl::StrCat(arg, " is a graph input of type ",
                                                         DTypeName(dtype), "; it must be int64"));
        }
        specialised[v.input_index] = true;
      } else if (v.kind == ValueKind::kIntermediate &&
                 (producer[id] < 0 || !model->nodes_[producer[id]].kernel->plans_output_values())) {
        const std::string by = producer[id] < 0
                                   ? std::string("the graph")
                                   : absl::StrCat("node '", model->nodes_[producer[id]].name, "' (",
                                                  model->nodes_[producer[id]].op, ")");
        return absl::UnimplementedError(absl::StrCat(
            arg, " is computed by ", by,
            " at run time; the engine needs its values when it plans shapes: make it a "
            "constant (initializer), a Shape output or a graph input of at most ",
            kMaxSpecialisedElements, " int64 values"));
      }
    }
    for (const std::string& out : node.outputs) {
      if (ids.count(out)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": output '", out, "' is produced more than once"));
      }
      compiled.outputs.push_back(add_value(Value{out, ValueKind::kIntermediate, -1, nullptr}));
      producer.resize(model->values_.size(), -1);
      producer[compiled.outputs.back()] = static_cast<int>(model->nodes_.size());
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
  for (size_t i = 0; i < specialised.size(); ++i) {
    if (!specialised[i]) continue;
    model->specialised_inputs_.push_back(static_cast<int>(i));
    if (i < model->info_.inputs.size()) model->info_.inputs[i].values_shape_the_plan = true;
  }
  model->HintChannelsLastOutputs();
  return std::shared_ptr<const CompiledModel>(std::move(model));
}

void CompiledModel::HintChannelsLastOutputs() {
  // Per value: does every reader take channels-last, and is one of them int8?
  std::vector<int> readers(values_.size(), 0), cl_readers(values_.size(), 0);
  std::vector<bool> int8_reader(values_.size(), false);
  for (const CompiledNode& node : nodes_) {
    for (int id : node.inputs) {
      ++readers[id];
      if (node.kernel->accepts_channels_last()) ++cl_readers[id];
      if (node.kernel->is_int8()) int8_reader[id] = true;
    }
  }
  for (int id : output_values_) readers[id] = -1;  // returned plain: no gain
  for (CompiledNode& node : nodes_) {
    if (node.outputs.size() != 1) continue;
    const int v = node.outputs[0];
    if (readers[v] > 0 && readers[v] == cl_readers[v] && int8_reader[v]) {
      node.kernel->PreferChannelsLastOutput();
    }
  }
}

absl::Status CompiledModel::ValidateInputs(absl::Span<const TensorView> inputs) const {
  if (inputs.size() != info_.inputs.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model takes ", info_.inputs.size(), " inputs, got ", inputs.size()));
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
      // A dim of 0 only where the model declares it (ONNX allows empty tensors); a
      // run-time dim takes a positive size.
      fits = (got.shape[d] > 0 || (got.shape[d] == 0 && want.shape[d] == 0)) &&
             (want.shape[d] < 0 || want.shape[d] == got.shape[d]);
      elements *= std::max<int64_t>(got.shape[d], 1);
      fits = fits && elements <= kMaxElements;
    }
    if (!fits) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", want.name, "' must have shape ", ShapeToString(want.shape),
                       " (? = any positive size), got ", ShapeToString(got.shape)));
    }
    if (got.data == nullptr && NumElements(got.shape) > 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", want.name, "' has no data"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const CompiledModel::Plan>> CompiledModel::BuildPlan(
    absl::Span<const TensorView> inputs) const {
  auto plan = std::make_shared<Plan>();
  plan->values.resize(values_.size());
  for (size_t v = 0; v < values_.size(); ++v) {
    if (values_[v].kind == ValueKind::kInput) {
      const TensorView& in = inputs[values_[v].input_index];
      plan->values[v] = ValueDesc{in.dtype, in.shape};
      if (IsSpecialisedOn(values_[v].input_index, in)) {
        // The plan keeps its own copy: its cache key holds these values.
        auto copy = std::make_shared<Tensor>(Tensor::Uninitialized(in.dtype, in.shape));
        std::memcpy(copy->data(), in.data, copy->byte_size());
        plan->values[v].value = std::move(copy);
      }
    } else if (values_[v].kind == ValueKind::kConstant) {
      plan->values[v] = ValueDesc{values_[v].constant->dtype(), values_[v].constant->shape(),
                                  Layout::kPlain, values_[v].constant};
    }
  }
  const PlanOptions plan_options{options_.tune_kernels};
  // A channels-last value converted to plain once, shared by every consumer needing plain.
  std::vector<int> plain_copy(values_.size(), -1);
  auto plain_id = [&](int id, const std::string& where) -> absl::StatusOr<int> {
    if (plan->values[id].layout == Layout::kPlain) return id;
    if (plain_copy[id] < 0) {
      ValueDesc to = plan->values[id];
      to.layout = Layout::kPlain;
      absl::StatusOr<std::unique_ptr<Step>> step =
          Guard(where, [&]() -> absl::StatusOr<std::unique_ptr<Step>> {
            return MakeReorderStep(plan->values[id], to);
          });
      if (!step.ok()) return step.status();
      plain_copy[id] = static_cast<int>(plan->values.size());
      plan->values.push_back(to);
      plan->steps.push_back(PlanStep{*std::move(step), {id}, {plain_copy[id]}, 0, -1});
    }
    return plain_copy[id];
  };

  for (size_t node_index = 0; node_index < nodes_.size(); ++node_index) {
    const CompiledNode& node = nodes_[node_index];
    const std::string where = absl::StrCat("node '", node.name, "' (", node.op, ")");
    std::vector<int> in_ids;
    std::vector<ValueDesc> in_descs;
    for (int id : node.inputs) {
      if (NumElements(plan->values[id].shape) == 0 && !node.kernel->accepts_empty_tensors()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": input '", id < static_cast<int>(values_.size()) ? values_[id].name : "?",
            "' is empty (shape ", ShapeToString(plan->values[id].shape),
            "); only data-movement ops (Reshape, Flatten, Squeeze, Unsqueeze, Split, Concat, "
            "Transpose, Identity, Shape) take empty tensors"));
      }
      if (!node.kernel->accepts_channels_last()) {
        absl::StatusOr<int> plain = plain_id(id, where);
        if (!plain.ok()) return plain.status();
        id = *plain;
      }
      in_ids.push_back(id);
      in_descs.push_back(plan->values[id]);
    }
    absl::StatusOr<PlannedStep> planned =
        Guard(where, [&]() -> absl::StatusOr<PlannedStep> { return node.kernel->PlanWithOptions(in_descs, plan_options); });
    if (!planned.ok()) {
      return absl::Status(planned.status().code(),
                          absl::StrCat(where, ": ", planned.status().message()));
    }
    if (planned->outputs.size() != node.outputs.size()) {
      return absl::InternalError(absl::StrCat(where, ": kernel planned ", planned->outputs.size(),
                                              " outputs for ", node.outputs.size()));
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      // A kernel that passes an input's desc through (p.outputs = {in[0]}) must not pass
      // on that input's contents as its output's.
      if (!node.kernel->plans_output_values()) planned->outputs[o].value.reset();
      const int64_t n = NumElements(planned->outputs[o].shape);
      if (n > kMaxElements) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": output would have ", n, " elements, more than the limit ", kMaxElements));
      }
      plan->values[node.outputs[o]] = planned->outputs[o];
    }
    plan->steps.push_back(PlanStep{std::move(planned->step), std::move(in_ids), node.outputs, 0,
                                   static_cast<int>(node_index)});
  }
  // Graph outputs are returned plain.
  for (int id : output_values_) {
    absl::StatusOr<int> plain = plain_id(id, "graph output");
    if (!plain.ok()) return plain.status();
    plan->outputs.push_back(*plain);
  }

  // Activation memory: intermediates live from their producing step to their last
  // consumer and share the arena when lifetimes do not overlap. Graph outputs are
  // written straight into the returned tensors and need no arena space.
  const int num_values = static_cast<int>(plan->values.size());
  std::vector<int> last_use(num_values, -1);
  for (int s = 0; s < static_cast<int>(plan->steps.size()); ++s) {
    for (int id : plan->steps[s].inputs) last_use[id] = s;
    for (int id : plan->steps[s].outputs) last_use[id] = std::max(last_use[id], s);
  }
  std::vector<bool> is_output(num_values, false);
  for (int id : plan->outputs) is_output[id] = true;
  auto in_arena = [&](int id) {
    return !is_output[id] &&
           (id >= static_cast<int>(values_.size()) || values_[id].kind == ValueKind::kIntermediate);
  };
  plan->arena_offset.assign(num_values, 0);
  ArenaPlanner arena;
  for (int s = 0; s < static_cast<int>(plan->steps.size()); ++s) {
    PlanStep& step = plan->steps[s];
    for (int id : step.outputs) {
      if (in_arena(id)) {
        const ValueDesc& v = plan->values[id];
        plan->arena_offset[id] =
            arena.Allocate(static_cast<size_t>(NumElements(v.shape)) * DTypeSize(v.dtype));
      }
    }
    const size_t workspace = step.step->workspace_bytes();
    if (workspace > 0) step.workspace_offset = arena.Allocate(workspace);
    plan->scratchpad_bytes = std::max(plan->scratchpad_bytes, step.step->scratchpad_bytes());
    if (workspace > 0) arena.Free(step.workspace_offset);
    for (int id : step.inputs) {
      if (in_arena(id) && last_use[id] == s) arena.Free(plan->arena_offset[id]);
    }
    for (int id : step.outputs) {
      if (in_arena(id) && last_use[id] == s) arena.Free(plan->arena_offset[id]);
    }
  }
  plan->arena_bytes = arena.size();
  return std::shared_ptr<const Plan>(std::move(plan));
}

absl::StatusOr<std::shared_ptr<const CompiledModel::Plan>> CompiledModel::GetPlan(
    absl::Span<const TensorView> inputs) const {
  // Key: every input's rank and dims, then the values of the inputs the plan is
  // specialised on (their sizes follow from the dims, so the key is unambiguous).
  std::vector<int64_t> key;
  for (const auto& in : inputs) {
    key.push_back(static_cast<int64_t>(in.shape.size()));
    key.insert(key.end(), in.shape.begin(), in.shape.end());
  }
  for (int i : specialised_inputs_) {
    if (!IsSpecialisedOn(i, inputs[i])) continue;
    const auto* p = static_cast<const int64_t*>(inputs[i].data);
    key.insert(key.end(), p, p + NumElements(inputs[i].shape));
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

bool CompiledModel::IsSpecialisedOn(int input_index, const TensorView& input) const {
  return std::binary_search(specialised_inputs_.begin(), specialised_inputs_.end(), input_index) &&
         input.dtype == DType::kInt64 && NumElements(input.shape) <= kMaxSpecialisedElements;
}

StepProfile CompiledModel::ProfileOf(const PlanStep& step, double seconds) const {
  StepProfile p;
  if (step.node >= 0) {
    p.node = nodes_[step.node].name;
    p.op = nodes_[step.node].op;
  } else {
    const int from = step.inputs.front();
    p.node =
        absl::StrCat("layout:", from < static_cast<int>(values_.size()) ? values_[from].name : "?");
    p.op = "Reorder";
  }
  if (const dnnl::primitive* primitive = step.step->main_primitive()) {
    PrimitiveProfile d = DescribePrimitive(*primitive);
    p.impl = std::move(d.impl);
    p.macs = d.macs;
  }
  p.seconds = seconds;
  return p;
}

absl::StatusOr<std::vector<Tensor>> CompiledModel::Run(RunContext& ctx,
                                                       absl::Span<const TensorView> inputs) const {
  if (auto s = ValidateInputs(inputs); !s.ok()) return s;
  // Before planning: oneDNN primitives created now keep the team size in force.
  omp_set_num_threads(TeamSize(options_.threads));
  auto plan_or = GetPlan(inputs);
  if (!plan_or.ok()) return plan_or.status();
  const Plan& plan = **plan_or;

  return Guard(info_.path, [&]() -> absl::StatusOr<std::vector<Tensor>> {
    RunContext::Impl& rc = ctx.impl();
    char* arena = static_cast<char*>(rc.arena.Reserve(plan.arena_bytes));
    void* scratchpad = rc.scratchpad.Reserve(plan.scratchpad_bytes);

    std::vector<void*> buffers(plan.values.size(), nullptr);
    for (size_t v = 0; v < plan.values.size(); ++v) {
      const ValueKind kind = v < values_.size() ? values_[v].kind : ValueKind::kIntermediate;
      switch (kind) {
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
    // Graph outputs a step produces are written straight into the returned tensors.
    std::vector<Tensor> outputs(plan.outputs.size());
    std::vector<int> written_by(plan.values.size(), -1);  // output index a step writes into
    for (size_t o = 0; o < plan.outputs.size(); ++o) {
      const int v = plan.outputs[o];
      const bool produced =
          v >= static_cast<int>(values_.size()) || values_[v].kind == ValueKind::kIntermediate;
      if (!produced || written_by[v] >= 0) continue;
      outputs[o] = Tensor::Uninitialized(plan.values[v].dtype, plan.values[v].shape);
      buffers[v] = outputs[o].data();
      written_by[v] = static_cast<int>(o);
    }

    std::vector<const void*> in_ptrs;
    std::vector<void*> out_ptrs;
    if (rc.profiling) rc.profile.clear();
    for (const PlanStep& step : plan.steps) {
      in_ptrs.clear();
      out_ptrs.clear();
      for (int id : step.inputs) in_ptrs.push_back(buffers[id]);
      for (int id : step.outputs) out_ptrs.push_back(buffers[id]);
      const auto start =
          rc.profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
      step.step->Execute(
          StepContext{rc.stream, scratchpad, arena + step.workspace_offset, in_ptrs, out_ptrs});
      if (rc.profiling) {
        rc.stream.wait();
        rc.profile.push_back(ProfileOf(
            step, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
      }
    }
    rc.stream.wait();

    // Outputs that are graph inputs, constants, or listed twice: copy.
    for (size_t o = 0; o < plan.outputs.size(); ++o) {
      const int v = plan.outputs[o];
      if (written_by[v] == static_cast<int>(o)) continue;
      outputs[o] = Tensor::Uninitialized(plan.values[v].dtype, plan.values[v].shape);
      std::memcpy(outputs[o].data(), buffers[v], outputs[o].byte_size());
    }
    return outputs;
  });
}

}  // namespace q8::engine::dnnl_backend
