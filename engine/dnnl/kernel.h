// The compiler's building blocks. A Kernel is made once per IR node at load (weights
// packed, constants read) and is shape-agnostic; Plan() turns it into a Step for one set
// of concrete input shapes (primitives created). Both are immutable once made, so any
// number of threads may execute a Step at once, each with its own StepContext.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/engine.h"
#include "engine/ir/graph.h"

namespace q8::engine::dnnl_backend {

// How a value's elements are stored. The shape is always the logical (ONNX) one, e.g.
// NCHW; kChannelsLast stores a 4-D NCHW value as NHWC (5-D NCDHW as NDHWC), which is
// what oneDNN's fast int8 convolution and pooling kernels read and write. Values keep
// channels-last between such kernels; the compiler converts to plain in front of a
// kernel that does not accept it and at graph outputs.
enum class Layout { kPlain, kChannelsLast };

struct ValueDesc {
  DType dtype = DType::kUnknown;
  Shape shape;
  Layout layout = Layout::kPlain;
  // The value's contents when they are known while planning, null otherwise: set on
  // constants, on the graph inputs a plan is specialised on (small int64 shape / axes /
  // split arguments, see BuiltKernel::value_inputs) and on the outputs of kernels that
  // compute them at plan time (Kernel::plans_output_values: Shape).
  std::shared_ptr<const Tensor> value = nullptr;
};

// The oneDNN memory descriptor of a value as laid out (plain row-major or channels-last).
dnnl::memory::desc MemoryDesc(const ValueDesc& v);

// Everything a Step may touch while it runs. Buffers are the concrete tensors of its
// runtime inputs / outputs, laid out row-major as their ValueDesc says.
struct StepContext {
  dnnl::stream& stream;
  void* scratchpad;  // at least Step::scratchpad_bytes(), 64-byte aligned
  void* workspace;   // at least Step::workspace_bytes(), 64-byte aligned, this step's own
  absl::Span<const void* const> inputs;
  absl::Span<void* const> outputs;
};

class Step {
 public:
  virtual ~Step() = default;
  // May throw dnnl::error; the caller (compiled_model.cc) turns it into a Status.
  virtual void Execute(const StepContext& ctx) const = 0;
  virtual size_t scratchpad_bytes() const { return 0; }
  // Temporary memory the step itself needs during Execute (e.g. a reordered input).
  virtual size_t workspace_bytes() const { return 0; }
  // The primitive doing the step's main work, for profiles (implementation name, MACs);
  // null for steps that are loops of our own.
  virtual const dnnl::primitive* main_primitive() const { return nullptr; }
};

// What a profile reports of a primitive: oneDNN's implementation name and, for
// convolution / matmul / inner product, the multiply-accumulates it performs.
struct PrimitiveProfile {
  std::string impl;
  int64_t macs = 0;
};
PrimitiveProfile DescribePrimitive(const dnnl::primitive& primitive);

// A Step that is just a function: for kernels whose work is a loop, not a primitive.
class FunctionStep final : public Step {
 public:
  explicit FunctionStep(std::function<void(const StepContext&)> fn) : fn_(std::move(fn)) {}
  void Execute(const StepContext& ctx) const override { fn_(ctx); }

 private:
  const std::function<void(const StepContext&)> fn_;
};

// Options of one plan, from LoadOptions.
struct PlanOptions {
  // Time the candidate oneDNN implementations of convolutions and matmuls and keep the
  // fastest (kernels/impl_selection.h). false: oneDNN's first choice (that passes the
  // out-of-bounds check every choice gets), no timing. LoadOptions::tune_kernels says why
  // false is the default.
  bool tune_kernels = false;
};

struct PlannedStep {
  std::unique_ptr<Step> step;
  std::vector<ValueDesc> outputs;  // one per node output
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Output types/shapes for these input descs, and the step computing them. Inputs are
  // the node's runtime inputs in BuiltKernel::runtime_inputs order. Errors are
  // INVALID_ARGUMENT (shapes that do not fit the op) or UNIMPLEMENTED.
  virtual absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> inputs) const = 0;
  // What the compiler calls: Plan with the plan's options. Kernels that choose among
  // oneDNN implementations override this and make Plan(inputs) use default options.
  virtual absl::StatusOr<PlannedStep> PlanWithOptions(absl::Span<const ValueDesc> inputs,
                                                      const PlanOptions& /*options*/) const {
    return Plan(inputs);
  }
  // True when Plan knows the contents of its outputs (Shape: the input's dims) and sets
  // ValueDesc::value on them, so a reader of shape arguments can take them from it. The
  // compiler drops any value set by a kernel that does not say so.
  virtual bool plans_output_values() const { return false; }
  // True when Plan/Execute handle inputs with no elements (a dim of 0): the ops that only
  // move or relabel data. The compiler refuses empty inputs to every other kernel before
  // planning (oneDNN primitives divide by such dims).
  virtual bool accepts_empty_tensors() const { return false; }
  // True when the kernel's arithmetic runs on int8 oneDNN primitives.
  virtual bool is_int8() const { return false; }
  // True when Plan/Execute handle channels-last inputs (and say which layout each output
  // has). False: the compiler reorders channels-last inputs to plain first.
  virtual bool accepts_channels_last() const { return false; }
  // Called by the compiler once, before any Plan, when every reader of the kernel's output
  // reads channels-last and at least one is an int8 kernel (a convolution): a kernel that
  // can write channels-last directly (QuantizeLinear of a plain NCHW graph input) should,
  // sparing each reader its own reorder.
  virtual void PreferChannelsLastOutput() {}
};

// What a kernel builder returns: the kernel and which node inputs it reads at run time
// (in the order Plan/Execute see them). Inputs it consumed at build time (weights,
// quantization parameters) are not listed. A listed input may still be a graph
// constant: the compiler then feeds the constant's buffer.
//
// value_inputs: positions in runtime_inputs of the inputs whose CONTENTS Plan reads (a
// Reshape's shape, a Squeeze's axes, a Split's sizes, given as inputs rather than
// attributes). Each must be known at plan time: a constant, a Shape output, or an int64
// graph input, on whose value the compiler then specialises the plan (the values are part
// of the plan-cache key, kMaxSpecialisedElements at most). Plan finds them in
// ValueDesc::value; the step may ignore those buffers at run time.
struct BuiltKernel {
  std::unique_ptr<Kernel> kernel;
  std::vector<std::string> runtime_inputs;
  std::vector<size_t> value_inputs = {};
};

// Largest graph input (elements) a plan is specialised on. Shape arguments are a few
// values; a larger integer input is data (token ids), and specialising on it would make a
// plan per request.
inline constexpr int64_t kMaxSpecialisedElements = 64;

using KernelBuilder =
    std::function<absl::StatusOr<BuiltKernel>(const ir::Node& node, const ir::Graph& graph)>;

// op key ("Gemm", "q8.QGemm") → builder. Built once, immutable.
const std::map<std::string, KernelBuilder>& KernelRegistry();
std::string OpKey(const ir::Node& node);  // domain-qualified op name used by the registry

// The process-wide CPU engine. Created on first use; immutable afterwards.
const dnnl::engine& CpuEngine();

// Helpers shared by kernels.
dnnl::memory::data_type ToDnnl(DType dtype);
dnnl::memory::dims ToDims(const Shape& shape);

// Per-family registration, called by KernelRegistry().
void RegisterQuantizeKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterQGemmKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterDequantizeEpilogueKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterMatMulKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterElementwiseKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterShapeKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterMathKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterTransformerKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterLayoutKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterDynamicQuantKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterQMatMulKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterConvPoolKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterReduceKernels(std::map<std::string, KernelBuilder>& registry);

}  // namespace q8::engine::dnnl_backend
