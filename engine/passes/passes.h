// Graph rewrites run between import and compile, in the order RunPasses lists them.
#pragma once

#include "absl/status/status.h"
#include "engine/ir/graph.h"

namespace q8::engine::passes {

// Folds QDQ-form matrix products into the internal int8 op q8.QGemm, so they run on
// int8 oneDNN primitives instead of float math on dequantized values:
//
//   x_q ─DQ─┐
//   w_q ─DQ─┼─ Gemm(transB) | MatMul ─[Relu]─[QuantizeLinear]─►  y_q (or float y)
//   b_q ─DQ─┘ (optional)
//                     ⇒  x_q ─ QGemm(w_q, bias, relu, output scale) ─► y_q (or y)
//
// Requirements (else the nodes are left as they are): x and w dequantize per-tensor /
// per-output-channel with constant parameters, w is a constant int8 tensor with zero
// zero-points, Gemm has alpha = beta = 1 and transA = 0. The Relu and QuantizeLinear are
// fused only when they are the sole consumers and not graph outputs.
absl::Status FoldQdqMatMul(ir::Graph& graph);

// QLinearMatMul with a constant int8 weight becomes q8.QGemm too (same kernel).
absl::Status RewriteQLinearMatMul(ir::Graph& graph);

// DequantizeLinear → Add(const bias) → [Relu] → [QuantizeLinear] chains, as QOperator
// graphs leave them between quantized ops, become one exact element-wise kernel
// (fold_dequantize_epilogue.cc).
absl::Status FoldDequantizeEpilogue(ir::Graph& graph);

// Folds QDQ-form convolutions into the internal int8 op q8.QConv (fold_qdq_conv.cc):
//
//   x_q ─DQ─┐
//   w_q ─DQ─┼─ Conv ─[Relu | Clip(lo, hi)]─[QuantizeLinear]─►  y_q (or float y)
//   b   ─DQ─┘ (int32 behind a DQ, or a float constant; optional)
//                ⇒  x_q ─ q8.QConv(w_q, bias, activation, output scale) ─► y_q (or y)
//
// Requirements (else the nodes stay float): x dequantizes per-tensor, w is a constant
// 4-D int8 tensor with zero zero-points, per-tensor or per-output-channel (axis 0) scales;
// Clip bounds are constants. Any group / stride / pad / dilation / auto_pad.
absl::Status FoldQdqConv(ir::Graph& graph);

// Folds the int8 residual add (fold_qdq_add_pool.cc):
//
//   a_q ─DQ─┐
//            Add ─[Relu]─ QuantizeLinear ─►  y_q   ⇒  q8.QAdd(a_q, b_q, relu) ─► y_q
//   b_q ─DQ─┘
//
// All three quantizations per-tensor with constant parameters. An Add whose result stays
// float is left alone.
absl::Status FoldQdqAdd(ir::Graph& graph);

// Folds int8 pooling (fold_qdq_add_pool.cc):
//
//   x_q ─DQ─ MaxPool | AveragePool | GlobalAveragePool ─ QuantizeLinear ─►  y_q
//        ⇒  x_q ─ q8.QPool(pool = op, requantize s_x/s_y) ─► y_q
absl::Status FoldQdqPool(ir::Graph& graph);

// The chains the TFLite importer marks quant_arithmetic = "tflite" → TFLite's own integer
// kernels (fold_tflite_int8.cc; arithmetic in quant/tflite_arith.h). Runs before FoldQdqAdd
// and FoldQdqPool, which would otherwise take the marked Add and pools:
//
//   DQ(a), DQ(b) ─ Add | Sub | Mul ─[Relu | Clip]─ Q   ⇒  q8.TfliteAdd | q8.TfliteMul
//   DQ(x) ─ AveragePool ─[Relu | Clip]─ Q            ⇒  q8.TfliteAveragePool
//   DQ(x) ─ GlobalAveragePool ─ Q                     ⇒  q8.TfliteMean
//   DQ(x) ─ Identity ─ Q                              ⇒  q8.TfliteRequantize
absl::Status FoldTfliteInt8(ir::Graph& graph);

// Evaluates, once at load, every node whose inputs are all constants (Shape-only
// subgraphs, constant arithmetic), with the same kernels the model runs, and replaces its
// outputs by constants (fold_constants.cc).
absl::Status FoldConstants(ir::Graph& graph);

// The Erf spelling of GELU, 0.5·x·(1 + erf(x/√2)), becomes one q8.Gelu (fuse_erf_gelu.cc);
// FoldQdqMatMul then fuses it into a preceding QGemm as its activation.
absl::Status FuseErfGelu(ir::Graph& graph);

// LayerNormalization spelled as ReduceMean ─ Sub ─ Pow ─ ReduceMean ─ Add(ε) ─ Sqrt ─ Div ─
// Mul(γ) ─ [Add(β)], as exporters write it before opset 17, becomes one LayerNormalization
// (fuse_layer_norm.cc).
absl::Status FuseLayerNorm(ir::Graph& graph);

// A per-tensor QuantizeLinear moves in front of the Reshape / Transpose / Squeeze /
// Unsqueeze / Flatten ops before it (exact: quantization is element-wise), so the producer
// can emit int8 itself and the movement runs on bytes (hoist_quantize.cc).
absl::Status HoistQuantize(ir::Graph& graph);

// QDQ MatMul of two activations (attention scores, context) → q8.QMatMul, an int8 batched
// oneDNN matmul with a following Mul(α) and QuantizeLinear fused (fold_qdq_matmul_act.cc).
absl::Status FoldQdqMatMulAct(ir::Graph& graph);

// MatMulInteger with a constant int8 weight → q8.DynQGemm on a oneDNN u8s8 matmul, with
// dynamic quantization's Cast → Mul(s_x·s_w) → [Add(b)] → [Relu] fused
// (fold_dynamic_quant_matmul.cc).
absl::Status FoldDynamicQuantMatMul(ir::Graph& graph);

// An int8 activation read only by int8 convolutions / matrix products, and written by one,
// is stored as uint8 shifted by 128 (unsigned_conv_activations.cc): exact, and oneDNN's
// fastest depthwise kernels read u8 only.
absl::Status UnsignedConvActivations(ir::Graph& graph);

// Removes nodes none of whose outputs are consumed or graph outputs.
// Drops Identity nodes by renaming values (eliminate_identity.cc): no copy per run.
absl::Status EliminateIdentity(ir::Graph& graph);

void RemoveDeadNodes(ir::Graph& graph);

// All of the above, in order.
absl::Status RunPasses(ir::Graph& graph);

}  // namespace q8::engine::passes
