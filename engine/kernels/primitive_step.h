// PrimitiveStep: one oneDNN primitive run on a step's buffers. Input i of the step is
// bound to inputs[i].arg, output i to outputs[i].arg, each viewed through its memory
// descriptor; the scratchpad is the caller's (scratchpad_mode::user). Immutable, so any
// number of threads may execute it at once with their own StepContexts.
#pragma once

#include <memory>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

class PrimitiveStep final : public Step {
 public:
  struct Arg {
    int arg;                  // DNNL_ARG_*
    dnnl::memory::desc desc;  // how the buffer is laid out
  };
  PrimitiveStep(dnnl::primitive primitive, std::vector<Arg> inputs, std::vector<Arg> outputs,
                dnnl::memory::desc scratchpad)
      : primitive_(std::move(primitive)), inputs_(std::move(inputs)), outputs_(std::move(outputs)),
        scratchpad_(scratchpad) {}

  void Execute(const StepContext& c) const override;
  size_t scratchpad_bytes() const override { return scratchpad_.get_size(); }

  const dnnl::primitive* main_primitive() const override { return &primitive_; }
 private:
  const dnnl::primitive primitive_;
  const std::vector<Arg> inputs_, outputs_;
  const dnnl::memory::desc scratchpad_;
};

// The common case: a primitive that reads DNNL_ARG_SRC and writes DNNL_ARG_DST, both laid
// out as `md` (eltwise, softmax).
std::unique_ptr<Step> MakeSrcDstStep(dnnl::primitive primitive, const dnnl::memory::desc& md,
                                     const dnnl::memory::desc& scratchpad);

// A primitive attribute with the user scratchpad mode every kernel here uses.
dnnl::primitive_attr UserScratchpadAttr();

// The destination zero point z_y of an int8/uint8 output, exactly: y_q = round(v) + z_y.
// oneDNN 2.x's dst zero-point attribute adds z_y to the float result and rounds once,
// round(v + z_y); the two differ when v lies within float precision of a tie, where v + z_y
// rounds onto (or off) the tie: rare (about 1 element in 10^5) but a one-unit difference
// that deep networks amplify (TFLite's kernels, like this engine's definition, round first).
// Nothing is appended for z_y = 0 or a float output.
//
// AppendRoundBeforeZeroPoint: the last post-op rounds (half to even); the caller keeps the
// zero-point attribute, whose add is then exact.
void AppendRoundBeforeZeroPoint(DType y_dtype, int32_t y_zero_point, dnnl::post_ops& ops);
// AppendDstZeroPoint: round, then linear(1, z_y), in place of the attribute (the conversion
// to the storage type saturates). For convolutions: oneDNN 2.6's brgemm convolutions refuse
// a dst zero-point attribute, so a TFLite int8 ReLU6 layer (z_y = -128) fell back to older,
// slower kernels.
void AppendDstZeroPoint(DType y_dtype, int32_t y_zero_point, dnnl::post_ops& ops);

}  // namespace q8::engine::dnnl_backend
