// The engine's public face: load a model file, describe its tensors, run it.
//
//   auto model = q8::engine::LoadModel("model.onnx", {});      // import → IR → compile
//   q8::engine::RunContext ctx;                                // one per worker thread
//   auto outputs = (*model)->Run(ctx, {TensorView{...}});      // inputs in info().inputs order
//
// Nothing here exposes oneDNN or gRPC: the server depends on this header only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace q8::engine {

// Element types a model tensor can have at the engine boundary.
enum class DType : int {
  kUnknown = 0,
  kFloat32,
  kUint8,
  kInt8,
  kInt32,
  kInt64,
  kBool,
};

// "float32", "uint8", ... (numpy spelling, used in every message a user sees). A C string
// because Debian's absl::string_view is not std::string_view; this works with both.
const char* DTypeName(DType dtype);
// Bytes per element; 0 for kUnknown.
size_t DTypeSize(DType dtype);

// Row-major dimensions. In a TensorInfo, -1 marks a dimension fixed only at run time
// (ONNX symbolic dims such as the batch "N"). Tensors always have concrete dims.
using Shape = std::vector<int64_t>;
// "[N,784]"-style text; -1 prints as "?".
std::string ShapeToString(absl::Span<const int64_t> shape);
// Product of dims; 1 for a scalar. Precondition: no negative dims.
int64_t NumElements(absl::Span<const int64_t> shape);

// Affine quantization: real = scale * (q - zero_point). Per-tensor when axis is
// std::nullopt (one scale), per-channel along `axis` otherwise.
struct QuantParams {
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  std::optional<int> axis;
  DType storage = DType::kUnknown;  // kUint8 / kInt8 / kInt32
};

// One named tensor of a loaded model.
struct TensorInfo {
  std::string name;          // the name the graph gives it (e.g. "/fc3/Gemm_output_0")
  DType dtype = DType::kUnknown;
  Shape shape;               // -1 for run-time dims
  // Quantization of this tensor: set on quantized tensors, and on float graph
  // inputs/outputs that the graph immediately quantizes (QuantizeLinear) or that it
  // produces by dequantizing (DequantizeLinear), so callers can see the int8 boundary.
  std::optional<QuantParams> quant;
  std::string producer_op;   // op type of the producing node; "" for graph inputs
  std::string producer_node; // node name of the producer; "" for graph inputs
  // The float name this tensor stands for, if the importer knows it (quantization tools
  // rename "conv1/Relu:0" to "conv1/Relu_eightbit_dequantize:0"); "" otherwise.
  std::string original_name;
  // True when the file leaves this tensor unnamed and `name` was made up by the importer
  // (TFLite: input_<k> / output_<k>, stable for the file); signatures say so.
  bool name_generated = false;
  // Inputs only: the model reads this input's values, not just its shape, to decide the
  // shapes it computes (an int64 Reshape shape or Squeeze axes given at run time; the
  // engine plans per distinct value). Such an input must not be concatenated with another
  // request's, so a model with one cannot be batched.
  bool values_shape_the_plan = false;
};

// One node of the imported graph (before the engine's own rewrites), for graph
// introspection and for the signature layer's structural rules.
struct NodeInfo {
  std::string name;
  std::string op_type;
  std::string domain;                // "" for the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
};

struct ModelInfo {
  std::string path;          // file the model was loaded from
  std::string format;        // "onnx", "graphdef"
  std::string producer;      // producer_name/version recorded in the file, if any
  std::vector<TensorInfo> inputs;   // in the order Run() takes them
  std::vector<TensorInfo> outputs;  // in the order Run() returns them
  // Every named tensor of the imported graph (inputs, outputs, intermediates),
  // for the signature layer to resolve renamed tensors against.
  std::vector<TensorInfo> tensors;
  std::vector<NodeInfo> nodes;       // the imported graph's nodes, in graph order
  // Free-form key/value metadata of the file (ONNX metadata_props), e.g. an embedded
  // "q8serve.signatures" declaration.
  std::map<std::string, std::string> metadata;
  int num_nodes = 0;         // nodes in the imported graph
  int num_int8_kernels = 0;  // compiled kernels that run on int8 oneDNN primitives
};

// An owning, contiguous, 64-byte aligned tensor. Movable; copying is explicit (Clone).
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zero-filled
  // Contents unspecified: for buffers the caller overwrites whole (run outputs), where
  // zero-filling would be a wasted pass over memory.
  static Tensor Uninitialized(DType dtype, Shape shape);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  Tensor Clone() const;
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * DTypeSize(dtype_); }
  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T> T* data_as() { return static_cast<T*>(data()); }
  template <typename T> const T* data_as() const { return static_cast<const T*>(data()); }

 private:
  struct FreeDeleter { void operator()(void* p) const; };
  Tensor(DType dtype, Shape shape, bool zero_fill);
  DType dtype_ = DType::kUnknown;
  Shape shape_;
  std::unique_ptr<void, FreeDeleter> data_;
};

// A non-owning input: the caller keeps `data` alive for the duration of Run().
struct TensorView {
  DType dtype = DType::kUnknown;
  Shape shape;
  const void* data = nullptr;
};

struct LoadOptions {
  // Threads a single Run() may use (oneDNN/OpenMP team size). 0 = all cores.
  // Higher values cut latency of one request; 1 gives the best throughput when many
  // requests run at once on separate workers.
  int threads = 0;
  // Execution plans (primitives for one set of input shapes, e.g. one batch size)
  // kept per model, least recently used evicted first. Each plan costs primitive memory;
  // a miss costs a re-plan (~ms). A model that takes a shape / axes / split argument as
  // an int64 graph input (a Reshape's shape not stored in the file) has a plan per set
  // of those argument values too.
  size_t max_cached_plans = 16;
  // Per plan, time the oneDNN implementations each small convolution and matmul could use
  // (up to 4, AVX-512 ones) and keep the fastest. Off by default: measured on an AMX CPU it
  // helped some models and settings (resnet_block_qdq 1 thread batch 1: 0.91 -> 0.75 ms)
  // and hurt others (the same at 2 threads: 0.53 -> 0.70 ms), since a layer timed alone is
  // not the layer inside the pipeline; and it costs plan time (MobileNetV2 batch 8: 0.15 ->
  // 0.45 s on the first run). Either way every implementation a plan uses is first run once
  // on guarded buffers, and one that writes out of bounds (a oneDNN 2.6 bug for some
  // shapes) is passed over for the next.
  bool tune_kernels = false;
};

// One executed step of a profiled Run (RunContext::set_profiling): what ran and how long.
// Steps are the engine's fused kernels, plus layout conversions it inserted.
struct StepProfile {
  std::string node;  // IR node after the engine's rewrites ("layout:<value>" for conversions)
  std::string op;    // its op ("q8.QConv", "Reorder", ...)
  std::string impl;  // oneDNN implementation of its main primitive ("brg:avx512_core_vnni"),
                     // "" for steps that are plain loops
  int64_t macs = 0;  // multiply-accumulates of its convolution/matmul primitive, else 0
  double seconds = 0;
};

// Per-worker scratch state: oneDNN stream and scratchpad, activation buffers.
// Not thread-safe: use one per thread. Any context can run any model, so a worker
// can keep one context for its whole life.
class RunContext {
 public:
  RunContext();
  ~RunContext();
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  // Profiling times every step of each Run on this context (waiting for each to finish,
  // so it costs a little latency); profile() then holds the last Run's steps in order.
  void set_profiling(bool on);
  const std::vector<StepProfile>& profile() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A loaded, compiled model. Immutable once returned by LoadModel; Run() is thread-safe
// as long as each concurrent call passes its own RunContext.
class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;

  // Runs the model. `inputs` follow info().inputs order; dtype and every fixed dim
  // must match (run-time dims take any positive size; a dim the model fixes at 0 takes
  // an empty tensor). Inputs that are an op's shape, axes or split sizes (int64, at most
  // 64 values) are read while planning, and the plan is made for their values. Errors:
  // INVALID_ARGUMENT for inputs that do not fit (the message names the input and what was
  // expected) or argument values the op cannot take (naming the node and the values),
  // INTERNAL for engine failures. Outputs follow info().outputs order.
  virtual absl::StatusOr<std::vector<Tensor>> Run(RunContext& ctx,
                                                  absl::Span<const TensorView> inputs) const = 0;
};

// Imports and compiles a model file (format from the extension: .onnx). Fails with a
// message naming the file and, where it applies, the node name and op type:
// NOT_FOUND (no file), INVALID_ARGUMENT (unparsable / inconsistent model),
// UNIMPLEMENTED (an op or data type the engine does not support, listing what is).
absl::StatusOr<std::shared_ptr<const Model>> LoadModel(const std::string& path,
                                                       const LoadOptions& options = {});

// Imports a model file and describes it without compiling it (no kernels, no oneDNN
// work): for reference models and tools. Same errors as LoadModel's import step.
absl::StatusOr<ModelInfo> DescribeModelFile(const std::string& path);

// The model file names a version directory may hold, one per supported format, in
// probing order: "model.onnx" first. A repository serves the first one present.
std::vector<std::string> ModelFileNames();
// The same for one format ("onnx", "tflite", "graphdef": ModelInfo::format); empty for a
// name that is none of ModelFormatNames().
std::vector<std::string> ModelFileNames(const std::string& format);
std::vector<std::string> ModelFormatNames();

// Boundary conversions the server applies when clients use float for a tensor the graph
// keeps quantized: real → q = saturate(round_half_even(real / scale) + zero_point), and
// q → real = (q - zero_point) * scale, per-tensor or along q.axis. INVALID_ARGUMENT when
// the dtype does not fit (QuantizeTensor takes float32 and produces q.storage, uint8 or
// int8; DequantizeTensor takes uint8/int8/int32 and produces float32) or the per-axis
// parameter count does not match the tensor's dim.
absl::StatusOr<Tensor> QuantizeTensor(const TensorView& real, const QuantParams& q);
absl::StatusOr<Tensor> DequantizeTensor(const TensorView& quantized, const QuantParams& q);

}  // namespace q8::engine
