// The Model implementation: an IR graph compiled to kernels, run through per-shape plans.
// Thread-safe: Run() may be called concurrently with distinct RunContexts. The only
// mutable state is the plan cache, guarded by a mutex held for look-ups and inserts
// only (planning itself runs outside it). A plan is made per set of input shapes and,
// for models that take shape / axes / split arguments as int64 graph inputs, per set of
// those inputs' values (BuiltKernel::value_inputs); at most max_cached_plans are kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/dnnl/kernel.h"
#include "engine/engine.h"
#include "engine/ir/graph.h"

namespace q8::engine::dnnl_backend {

class CompiledModel final : public Model {
 public:
  // Builds a kernel for every node (packing weights once). `info` describes the model
  // as imported (before passes), which is what users and the signature layer see.
  static absl::StatusOr<std::shared_ptr<const CompiledModel>> Create(const ir::Graph& graph,
                                                                     ModelInfo info,
                                                                     const LoadOptions& options);

  const ModelInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<Tensor>> Run(RunContext& ctx,
                                          absl::Span<const TensorView> inputs) const override;

 private:
  struct CompiledNode {
    std::string name;
    std::string op;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> inputs;   // value ids of the runtime inputs
    std::vector<int> outputs;  // value ids
  };
  // One step of a plan, reading and writing plan value ids.
  struct PlanStep {
    std::unique_ptr<Step> step;
    std::vector<int> inputs;
    std::vector<int> outputs;
    size_t workspace_offset = 0;  // in the arena
    int node = -1;                // index into nodes_; -1 for an inserted layout conversion
  };
  // Everything that depends on the concrete input shapes. Immutable once built.
  // Plan value ids are the model's value ids, followed by the layout conversions the
  // plan inserted (channels-last → plain in front of kernels that need plain, and for
  // graph outputs).
  struct Plan {
    std::vector<PlanStep> steps;
    std::vector<ValueDesc> values;     // per plan value id
    std::vector<size_t> arena_offset;  // per plan value id (intermediates only)
    std::vector<int> outputs;          // plan value id of each graph output (plain layout)
    size_t arena_bytes = 0;
    size_t scratchpad_bytes = 0;
  };
  enum class ValueKind { kInput, kConstant, kIntermediate };
  struct Value {
    std::string name;
    ValueKind kind = ValueKind::kIntermediate;
    int input_index = -1;                    // kInput
    std::shared_ptr<const Tensor> constant;  // kConstant
  };

  CompiledModel(ModelInfo info, const LoadOptions& options)
      : info_(std::move(info)), options_(options) {}
  absl::Status ValidateInputs(absl::Span<const TensorView> inputs) const;
  // Create's last step: Kernel::PreferChannelsLastOutput where every reader wants it.
  void HintChannelsLastOutputs();
  absl::StatusOr<std::shared_ptr<const Plan>> GetPlan(absl::Span<const TensorView> inputs) const;
  // True when plans are specialised on the values of graph input `input_index` as given
  // (an int64 argument input, see BuiltKernel::value_inputs, small enough).
  bool IsSpecialisedOn(int input_index, const TensorView& input) const;
  StepProfile ProfileOf(const PlanStep& step, double seconds) const;
  absl::StatusOr<std::shared_ptr<const Plan>> BuildPlan(absl::Span<const TensorView> inputs) const;

  ModelInfo info_;  // completed in Create, immutable afterwards
  const LoadOptions options_;
  std::vector<Value> values_;
  std::vector<CompiledNode> nodes_;
  std::vector<int> output_values_;  // value id of each graph output
  // Graph inputs (indices, ascending) that some kernel reads the contents of at plan time:
  // plans are specialised on their values.
  std::vector<int> specialised_inputs_;

  mutable absl::Mutex plans_mu_;
  struct CachedPlan {
    std::vector<int64_t> key;
    std::shared_ptr<const Plan> plan;
    uint64_t last_used = 0;
  };
  mutable std::vector<CachedPlan> plans_ ABSL_GUARDED_BY(plans_mu_);
  mutable uint64_t plan_clock_ ABSL_GUARDED_BY(plans_mu_) = 0;
};

}  // namespace q8::engine::dnnl_backend
