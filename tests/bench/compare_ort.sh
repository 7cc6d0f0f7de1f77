#!/usr/bin/env bash
# q8run vs onnxruntime on the same models, alternating runs in one session (the machine
# is shared and noisy: never compare against numbers from a file).
#
#   tests/bench/compare_ort.sh [MODEL ...]   (default: mlp_qdq mlp_qop)
# Env: BUILD_DIR (build), Q8_SHARED_DIR (../shared), ITERS (200), ROUNDS (3),
#      THREADS ("1 2"), BATCHES ("1 8"). Needs node/npm: installs onnxruntime-node from
#      ../shared/bench/ort's lock file into a temp dir.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${Q8_SHARED_DIR:-$repo/../shared}
q8run=${BUILD_DIR:-$repo/build}/engine/q8run
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(mlp_qdq mlp_qop)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$shared"/bench/ort/{package.json,package-lock.json,.npmrc,run.js} "$work"/
(cd "$work" && npm ci --silent >/dev/null)
printf '| model | threads | batch | q8serve p50 ms | onnxruntime p50 ms | speed-up |\n|---|---:|---:|---:|---:|---:|\n'
for m in "${models[@]}"; do
  for t in ${THREADS:-1 2}; do
    for b in ${BATCHES:-1 8}; do
      q=(); o=()
      for _ in $(seq "${ROUNDS:-3}"); do  # alternate so both see the same machine state
        q+=("$("$q8run" "$shared/bench/models/$m.onnx" --threads "$t" --batch "$b" --iters "${ITERS:-200}" | sed 's/.*"p50_ms":\([0-9.]*\).*/\1/')")
        o+=("$(node "$work/run.js" "$shared/bench/models/$m.onnx" --threads "$t" --batch "$b" --iters "${ITERS:-200}" | sed 's/.*"p50_ms":\([0-9.]*\).*/\1/')")
      done
      qm=$(printf '%s\n' "${q[@]}" | sort -g | sed -n "$(( (${#q[@]} + 1) / 2 ))p")
      om=$(printf '%s\n' "${o[@]}" | sort -g | sed -n "$(( (${#o[@]} + 1) / 2 ))p")
      printf '| %s | %s | %s | %s | %s | %.2fx |\n' "$m" "$t" "$b" "$qm" "$om" "$(awk -v a="$om" -v b="$qm" 'BEGIN{print a/b}')"
    done
  done
done
