#!/usr/bin/env bash
# q8run on MobileNetV2 as a .tflite file (../shared/testdata/models/tflite, int8, from
# PyTorch via TFLite) next to the same network shape as ONNX QDQ
# (../shared/bench/models/mobilenet_qdq.onnx), alternating runs in one session (the machine
# is shared and noisy: never compare against numbers from a file). Prints each run's p50
# and the median of the runs, side by side.
#
#   tests/bench/compare_tflite.sh
# Env: BUILD_DIR (build), Q8_SHARED_DIR (../shared), ITERS (200), ROUNDS (5), THREADS ("1 2").
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${Q8_SHARED_DIR:-$repo/../shared}
q8run=${BUILD_DIR:-$repo/build}/engine/q8run
tflite=$shared/testdata/models/tflite/mobilenet_v2_quantized_1x3x224x224.tflite
onnx=$shared/bench/models/mobilenet_qdq.onnx
p50() { "$q8run" "$1" --threads "$2" --iters "${ITERS:-200}" | sed 's/.*"p50_ms":\([0-9.]*\).*/\1/'; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
printf '| threads | mobilenet_v2 .tflite p50 ms | mobilenet_qdq.onnx p50 ms | tflite / onnx |\n|---:|---:|---:|---:|\n'
for t in ${THREADS:-1 2}; do
  a=(); b=()
  for _ in $(seq "${ROUNDS:-5}"); do  # alternate so both see the same machine state
    a+=("$(p50 "$tflite" "$t")")
    b+=("$(p50 "$onnx" "$t")")
  done
  ma=$(median "${a[@]}"); mb=$(median "${b[@]}")
  printf '| %s | %s (runs: %s) | %s (runs: %s) | %.2f |\n' "$t" "$ma" "${a[*]}" "$mb" "${b[*]}" \
    "$(awk -v x="$ma" -v y="$mb" 'BEGIN{print x/y}')"
done
