#!/usr/bin/python3
"""Build q8serve's embedded default model: a small int8 QDQ MLP on the real
handwritten-digits dataset (deterministic; rerunning gives byte-identical files).

Usage (from the repo root; needs Debian's python3-numpy, python3-onnx, python3-sklearn):
    /usr/bin/python3 deploy/models/make_digits_model.py

Steps
  1. Data: sklearn.datasets.load_digits (1797 8x8 images, pixels 0..16; the UCI
     optdigits test set). Pixels are scaled to [0, 1] (x / 16). Split with
     numpy.random.default_rng(0).permutation: first round(0.2 * 1797) = 359 samples test, rest train.
  2. Train an MLP 64 -> 64 -> 32 -> 10 (ReLU) in plain numpy, float64: softmax
     cross-entropy, Adam, He init, seed 0. Weights are rounded to float32 afterwards.
  3. Quantize it in QDQ form, as onnxruntime's quantize_static emits it (the same
     conventions as /work/shared/bench/make_models.py):
       images -> Q/DQ -> Gemm fc1 -> Relu -> Q/DQ -> Gemm fc2 -> Relu -> Q/DQ
              -> Gemm fc3 -> Identity -> logits
     * activations (Gemm inputs): uint8 asymmetric, range = min/max over the training
       set (widened to include 0), scale = (hi - lo) / 255, zero point round(-lo / scale);
       each range is calibrated on the already fake-quantized upstream graph;
     * weights: int8 symmetric per-channel (axis 0 of the [out, in] weight, Gemm
       transB=1), scale = max|w| / 127, zero point 0;
     * bias: int32, scale = x_scale * w_scale (per channel), zero point 0, its own
       DequantizeLinear (axis 0);
     * the last Gemm's output stays float and is exposed through Identity as `logits`.
     Input `images` float32 ["N", 64], output `logits` float32 ["N", 10]; opset 17,
     ir_version 8, checked with onnx.checker.check_model(full_check=True).
  4. Outputs
       deploy/models/digits/1/model.onnx        the int8 model (served repository)
       deploy/examples/digits/model_float.onnx  the float model (reference only)
       deploy/examples/digits/sample_{0..3}.json  {"images": [[64 floats]]}, batch 1
       deploy/examples/digits/labels.json       {"sample_0.json": label, ...}
       deploy/examples/digits/batch4.npy        float32 [4, 64], the same 4 images
       deploy/examples/digits/batch4_labels.json  [label, label, label, label]
       deploy/examples/digits/batch4_logits_reference.npy  float32 [4, 10], see below
     The 4 examples are the first test images (in split order) with distinct labels
     that both the float and the int8 model classify correctly.

The int8 accuracy and batch4_logits_reference.npy come from a numpy evaluation of the
QDQ graph with exact ONNX semantics:
  QuantizeLinear    q = saturate(round_half_to_even(x / scale) + zero_point), with x / scale
                    an IEEE float32 division (as the ONNX spec and onnxruntime's MLAS do);
  DequantizeLinear  float32((q - zero_point) * scale), per channel where axis is given
                    (int32 bias: float32(bq) * scale);
  Gemm              A @ B^T + C on the float32 dequantized tensors, accumulated in float64
                    and rounded once to float32 (i.e. the correctly rounded float result);
  Relu, Identity    as defined.
An engine running the graph (float QDQ or fused integer kernels: acc_int32 = sum (xq - zp) *
wq + bq, times x_scale * w_scale) must reproduce the reference to ~1e-4 relative: the two
paths differ only by float32 rounding, unless a value lands on a quantization rounding tie.
The script prints the smallest distance to such a tie for the batch4 images (in units of
the quantization step); pixel value 8 (x = 0.5) sits 1e-5 steps below the tie 127.5 at the
input quantizer (0.5f / 0.003921569f = 127.49999f -> 127), so an engine must divide by the
float32 scale (or multiply by its float32 reciprocal, which rounds the same here), not
compute in exact 1/255 arithmetic.
"""
import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # single-threaded BLAS: reproducible sums
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

SEED = 0
OPSET = 17
DIMS = [64, 64, 32, 10]
LAYERS = ["fc1", "fc2", "fc3"]
EPOCHS = 150
BATCH = 32
LR = 2e-3
N_EXAMPLES = 4

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.dirname(HERE)
MODEL_PATH = os.path.join(HERE, "digits", "1", "model.onnx")
EX_DIR = os.path.join(DEPLOY, "examples", "digits")
FLOAT_PATH = os.path.join(EX_DIR, "model_float.onnx")


# ---------------------------------------------------------------------------- data
def load_data():
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(SEED).permutation(len(x))
    n_test = int(round(0.2 * len(x)))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


# ---------------------------------------------------------------------------- training
def train(xtr, ytr):
    rng = np.random.default_rng(SEED)
    params = []
    for fin, fout in zip(DIMS[:-1], DIMS[1:]):
        w = rng.standard_normal((fout, fin)) * np.sqrt(2.0 / fin)  # [out, in] (Gemm transB=1)
        params += [w, np.zeros(fout)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps, wd = 0.9, 0.999, 1e-8, 1e-4
    x_all, y_all = xtr.astype(np.float64), ytr
    t = 0
    for epoch in range(EPOCHS):
        lr = LR * 0.5 * (1 + np.cos(np.pi * epoch / EPOCHS))  # cosine decay
        order = rng.permutation(len(x_all))
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            x, y = x_all[idx], y_all[idx]
            acts = [x]
            for li in range(3):
                z = acts[-1] @ params[2 * li].T + params[2 * li + 1]
                acts.append(np.maximum(z, 0) if li < 2 else z)
            logits = acts[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = p
            g[np.arange(len(y)), y] -= 1
            g /= len(y)
            grads = [None] * len(params)
            for li in (2, 1, 0):
                grads[2 * li] = g.T @ acts[li] + wd * params[2 * li]
                grads[2 * li + 1] = g.sum(axis=0)
                if li > 0:
                    g = (g @ params[2 * li]) * (acts[li] > 0)
            t += 1
            for k, (pk, gk) in enumerate(zip(params, grads)):
                m[k] = b1 * m[k] + (1 - b1) * gk
                v[k] = b2 * v[k] + (1 - b2) * gk * gk
                mh = m[k] / (1 - b1 ** t)
                vh = v[k] / (1 - b2 ** t)
                params[k] = pk - lr * mh / (np.sqrt(vh) + eps)
    return [p.astype(np.float32) for p in params]


def float_forward(params, x):
    h = x.astype(np.float64)
    for li in range(3):
        h = h @ params[2 * li].astype(np.float64).T + params[2 * li + 1].astype(np.float64)
        if li < 2:
            h = np.maximum(h, 0)
    return h.astype(np.float32)


# ---------------------------------------------------------------------------- quantization
def act_qparams(v):
    lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
    scale = np.float32(max(hi - lo, 1e-6) / 255.0)
    zp = int(np.clip(round(-lo / float(scale)), 0, 255))
    return scale, zp


def quantize_u8(x, scale, zp):
    """ONNX QuantizeLinear (uint8): float32 division, round half to even, saturate."""
    q = np.rint(x.astype(np.float32) / np.float32(scale)) + zp
    return np.clip(q, 0, 255).astype(np.uint8)


def dequantize(q, scale, zp, axis=None):
    """ONNX DequantizeLinear in float32 (per channel along axis if given)."""
    scale = np.asarray(scale, np.float32)
    zp = np.asarray(zp)
    if axis is not None and scale.ndim == 1:
        shp = [1] * q.ndim
        shp[axis] = -1
        scale, zp = scale.reshape(shp), zp.reshape(shp)
    return ((q.astype(np.int64) - zp.astype(np.int64)).astype(np.float32) * scale).astype(np.float32)


def gemm_ref(a, w, b):
    """Gemm(A, W, C, transB=1) on float32 tensors, exact float64 accumulation, one rounding."""
    return (a.astype(np.float64) @ w.astype(np.float64).T + b.astype(np.float64)).astype(np.float32)


def quantize_model(params, xcal):
    """Per layer: (x_scale, x_zp, wq int8 [out,in], w_scale [out], bq int32 [out], b_scale [out])."""
    layers = []
    h = xcal.astype(np.float32)
    for li in range(3):
        w, b = params[2 * li], params[2 * li + 1]
        xs, xz = act_qparams(h)
        ws = np.maximum(np.abs(w).max(axis=1) / np.float32(127.0), np.float32(1e-8)).astype(np.float32)
        wq = np.clip(np.rint(w / ws[:, None]), -127, 127).astype(np.int8)
        bs = (np.float32(xs) * ws).astype(np.float32)
        bq = np.rint(b.astype(np.float64) / bs.astype(np.float64)).astype(np.int32)
        layers.append((xs, xz, wq, ws, bq, bs))
        # float value of the fake-quantized layer, to calibrate the next activation
        h = qdq_layer(layers[-1], h)
        if li < 2:
            h = np.maximum(h, 0)
    return layers


def qdq_layer(layer, x, return_q=False):
    xs, xz, wq, ws, bq, bs = layer
    xq = quantize_u8(x, xs, xz)
    out = gemm_ref(dequantize(xq, xs, xz), dequantize(wq, ws, np.zeros(len(ws), np.int8), axis=0),
                   dequantize(bq, bs, np.zeros(len(bs), np.int32), axis=0))
    return (out, xq) if return_q else out


def qdq_forward(layers, x, trace=None):
    """The int8 QDQ graph with exact ONNX semantics (see module docstring)."""
    h = x.astype(np.float32)
    for li, layer in enumerate(layers):
        if trace is not None:
            xs = layer[0]
            r = h.astype(np.float32) / np.float32(xs)
            trace.append((LAYERS[li], r))
        h, _ = qdq_layer(layer, h, return_q=True)
        if li < 2:
            h = np.maximum(h, np.float32(0))
    return h


def int_forward(layers, x):
    """Fused-integer variant (acc_int32 + bq) * (x_scale * w_scale), for a consistency check."""
    h = x.astype(np.float32)
    for li, (xs, xz, wq, ws, bq, bs) in enumerate(layers):
        xq = quantize_u8(h, xs, xz).astype(np.int64)
        acc = (xq - xz) @ wq.astype(np.int64).T + bq.astype(np.int64)
        h = (acc.astype(np.float32) * bs[None, :]).astype(np.float32)
        if li < 2:
            h = np.maximum(h, np.float32(0))
    return h


# ---------------------------------------------------------------------------- ONNX
def build_int8_model(layers, acc_int8):
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    x = "images"
    for li, (name, (xs, xz, wq, ws, bq, bs)) in enumerate(zip(LAYERS, layers)):
        s, z = init(f"{x}_scale", np.array(xs, np.float32)), init(f"{x}_zero_point", np.array(xz, np.uint8))
        q, d = f"{x}_QuantizeLinear_Output", f"{x}_DequantizeLinear_Output"
        nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [q], name=f"{x}_QuantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [d], name=f"{x}_DequantizeLinear"))
        wn = f"{name}.weight"
        init(f"{wn}_quantized", wq)
        init(f"{wn}_scale", ws)
        init(f"{wn}_zero_point", np.zeros(ws.shape, np.int8))
        wd = f"{wn}_DequantizeLinear_Output"
        nodes.append(helper.make_node("DequantizeLinear", [f"{wn}_quantized", f"{wn}_scale", f"{wn}_zero_point"],
                                      [wd], name=f"{wn}_DequantizeLinear", axis=0))
        bn = f"{name}.bias"
        init(f"{bn}_quantized", bq)
        init(f"{bn}_quantized_scale", bs)
        init(f"{bn}_quantized_zero_point", np.zeros(bs.shape, np.int32))
        bd = f"{bn}_quantized_DequantizeLinear_Output"
        nodes.append(helper.make_node("DequantizeLinear", [f"{bn}_quantized", f"{bn}_quantized_scale",
                                                           f"{bn}_quantized_zero_point"],
                                      [bd], name=f"{bn}_quantized_DequantizeLinear", axis=0))
        out = f"/{name}/Gemm_output_0"
        nodes.append(helper.make_node("Gemm", [d, wd, bd], [out], name=f"/{name}/Gemm", transB=1))
        if li < 2:
            r = f"/{name}/Relu_output_0"
            nodes.append(helper.make_node("Relu", [out], [r], name=f"/{name}/Relu"))
            x = r
        else:
            x = out
    nodes.append(helper.make_node("Identity", [x], ["logits"], name="logits_Identity"))
    return finish(nodes, inits, "digits_mlp_qdq",
                  {"dataset": "sklearn digits (UCI optdigits test set)", "test_accuracy_int8": f"{acc_int8:.4f}"})


def build_float_model(params, acc_float):
    nodes, inits = [], []
    x = "images"
    for li, name in enumerate(LAYERS):
        inits.append(numpy_helper.from_array(params[2 * li], f"{name}.weight"))
        inits.append(numpy_helper.from_array(params[2 * li + 1], f"{name}.bias"))
        out = f"/{name}/Gemm_output_0"
        nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [out],
                                      name=f"/{name}/Gemm", transB=1))
        if li < 2:
            r = f"/{name}/Relu_output_0"
            nodes.append(helper.make_node("Relu", [out], [r], name=f"/{name}/Relu"))
            x = r
        else:
            x = out
    nodes.append(helper.make_node("Identity", [x], ["logits"], name="logits_Identity"))
    return finish(nodes, inits, "digits_mlp_float",
                  {"dataset": "sklearn digits (UCI optdigits test set)", "test_accuracy_float": f"{acc_float:.4f}"})


def finish(nodes, inits, graph_name, meta):
    g = helper.make_graph(nodes, graph_name,
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", DIMS[0]])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", DIMS[-1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="q8serve-digits", producer_version="1")
    m.ir_version = 8
    helper.set_model_props(m, meta)
    onnx.checker.check_model(m, full_check=True)
    return m


# ---------------------------------------------------------------------------- main
def tie_margin(r):
    """Distance of x / scale to the nearest rounding tie (k + 0.5), in quantization steps."""
    return float(np.min(np.abs(r - np.floor(r) - 0.5)))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=None if "sample_" in os.path.basename(path) else 2)
        f.write("\n")


def main():
    xtr, ytr, xte, yte = load_data()
    params = train(xtr, ytr)
    pred_float = float_forward(params, xte).argmax(1)
    acc_float = float(np.mean(pred_float == yte))

    layers = quantize_model(params, xtr)
    logits_q = qdq_forward(layers, xte)
    pred_int8 = logits_q.argmax(1)
    acc_int8 = float(np.mean(pred_int8 == yte))
    logits_i = int_forward(layers, xte)
    int_vs_qdq = float(np.max(np.abs(logits_i - logits_q)))

    # examples: first test images with distinct labels, right under both models
    picks, seen = [], set()
    for i in range(len(yte)):
        if pred_float[i] == yte[i] and pred_int8[i] == yte[i] and yte[i] not in seen:
            picks.append(i)
            seen.add(int(yte[i]))
            if len(picks) == N_EXAMPLES:
                break
    bx = np.ascontiguousarray(xte[picks], dtype=np.float32)
    by = [int(v) for v in yte[picks]]
    trace = []
    ref = qdq_forward(layers, bx, trace).astype(np.float32)

    os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
    os.makedirs(EX_DIR, exist_ok=True)
    onnx.save(build_int8_model(layers, acc_int8), MODEL_PATH)
    onnx.save(build_float_model(params, acc_float), FLOAT_PATH)
    labels = {}
    for k in range(N_EXAMPLES):
        fn = f"sample_{k}.json"
        write_json(os.path.join(EX_DIR, fn), {"images": [[float(v) for v in bx[k]]]})
        labels[fn] = by[k]
    write_json(os.path.join(EX_DIR, "labels.json"), labels)
    np.save(os.path.join(EX_DIR, "batch4.npy"), bx)
    write_json(os.path.join(EX_DIR, "batch4_labels.json"), by)
    np.save(os.path.join(EX_DIR, "batch4_logits_reference.npy"), ref)

    print(f"data: {len(xtr)} train / {len(xte)} test images (sklearn digits, seed {SEED})")
    print(f"float test accuracy: {acc_float:.4f}")
    print(f"int8  test accuracy: {acc_int8:.4f}  (numpy QDQ simulation, exact ONNX semantics)")
    print(f"int8 vs float predictions agree on {np.mean(pred_int8 == pred_float):.4f} of test images")
    print(f"fused-integer vs QDQ-float logits, test set: max abs diff {int_vs_qdq:.3g}")
    for name, (xs, xz, *_rest) in zip(LAYERS, layers):
        print(f"  {name} input: scale {float(xs):.9g} zero_point {xz}")
    print("batch4 examples: test indices", picks, "labels", by,
          "argmax", [int(v) for v in ref.argmax(1)])
    print("batch4 distance to a quantization rounding tie (steps): " +
          ", ".join(f"{n} {tie_margin(r):.2g}" for n, r in trace))
    for p in (MODEL_PATH, FLOAT_PATH):
        print(f"wrote {os.path.relpath(p, os.path.dirname(DEPLOY))} ({os.path.getsize(p)} bytes)")
    print(f"wrote {os.path.relpath(EX_DIR, os.path.dirname(DEPLOY))}/: sample_0..{N_EXAMPLES - 1}.json, "
          "labels.json, batch4.npy, batch4_labels.json, batch4_logits_reference.npy")


if __name__ == "__main__":
    main()
