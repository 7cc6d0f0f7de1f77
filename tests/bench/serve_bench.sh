#!/usr/bin/env bash
# The served numbers: q8serve on the bench models, over TF Serving Predict on 127.0.0.1,
# measured with `q8c bench`, beside the engine alone (`q8run`) on the same model and batch.
#
#   tests/bench/serve_bench.sh [MODEL ...]   (default: the eight bench models)
#
# Per model it prints three rows:
#   latency    — one client, batch-1 requests, closed loop: server p50 vs q8run p50 at batch 1
#                (the difference is what gRPC, decoding, queueing and encoding add);
#   throughput — CONCURRENCY clients (default 16) for DURATION s (default 5), batch-1 requests,
#                with dynamic batching off and on (max_batch_size MAX_BATCH, default 8,
#                max_queue_delay_us DELAY_US, default 500): requests/s, p50, p99.
# The server runs 2 workers of 1 engine thread each (this machine's 2 cores). Env: BUILD_DIR
# (build), Q8_SHARED_DIR (../shared), CONCURRENCY, MAX_BATCH, DELAY_US, DURATION, REQUESTS
# (latency requests, default 500). The machine is shared: rerun rather than trust a figure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${Q8_SHARED_DIR:-$repo/../shared}
build=${BUILD_DIR:-$repo/build}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mlp_qdq cnn_qdq resnet_block_qdq mobilenet_qdq bert_layer_qdq
                                   mlp_qop resnet_block_qop mlp_dynamic)
concurrency=${CONCURRENCY:-16}
seconds=${DURATION:-5}
max_batch=${MAX_BATCH:-8}
delay_us=${DELAY_US:-500}
requests=${REQUESTS:-500}

work=$(mktemp -d /tmp/q8-serve-bench.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# Repository: <m> with batching off, <m>_batched with it on; seeded inputs from q8run.
for m in "${models[@]}"; do
  for name in "$m" "${m}_batched"; do
    mkdir -p "$work/repo/$name/1"
    cp "$shared/bench/models/$m.onnx" "$work/repo/$name/1/model.onnx"
  done
  printf 'batching { max_batch_size: %d max_queue_delay_us: %d }\n' "$max_batch" "$delay_us" \
    >"$work/repo/${m}_batched/config.pbtxt"
  "$build/engine/q8run" "$shared/bench/models/$m.onnx" --batch 1 --iters 1 --warmup 0 \
    --save "$work/inputs/$m" >/dev/null
done

"$build/server/q8serve" --model-repository="$work/repo" --host=127.0.0.1 --grpc-port=0 \
  --metrics-port=0 --threads=1 --workers=2 --ready-file="$work/ready.json" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
[ -s "$work/ready.json" ] || { cat "$work/server.log"; echo "q8serve did not start" >&2; exit 1; }
port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$work/ready.json")

inputs_of() {  # q8c --input flags for every saved input of model $1
  local args=()
  for f in "$work/inputs/$1"/*.npy; do
    case $f in *.out.npy) continue ;; esac
    args+=(--input "$(basename "$f" .npy)=$f")
  done
  printf '%s\n' "${args[@]}"
}

printf '| model | measure | setting | q8serve | engine alone (q8run) |\n|---|---|---|---|---|\n'
for m in "${models[@]}"; do
  mapfile -t in < <(inputs_of "$m")
  engine=$("$build/engine/q8run" "$shared/bench/models/$m.onnx" --threads 1 --batch 1 \
    --iters "$requests" | field p50_ms)
  lat=$("$build/client/q8c" bench --target="127.0.0.1:$port" --model="$m" "${in[@]}" \
    --concurrency=1 --requests="$requests" || true)
  p50=$(echo "$lat" | field p50_ms)
  printf '| %s | latency | 1 client, batch 1 | p50 %s ms | p50 %s ms (+%s ms served) |\n' "$m" \
    "$p50" "$engine" "$(awk -v a="$p50" -v b="$engine" 'BEGIN{printf "%.3f", a-b}')"
  for name in "$m" "${m}_batched"; do
    out=$("$build/client/q8c" bench --target="127.0.0.1:$port" --model="$name" "${in[@]}" \
      --concurrency="$concurrency" --duration-s="$seconds" || true)
    setting="$concurrency clients, batching off"
    [ "$name" = "$m" ] || setting="$concurrency clients, batching $max_batch / ${delay_us} µs"
    errors=$(echo "$out" | sed -n 's/.*"errors":\({[^}]*}\).*/\1/p')
    printf '| %s | throughput | %s | %s req/s, p50 %s ms, p99 %s ms, errors %s | |\n' "$m" \
      "$setting" "$(echo "$out" | field throughput_per_s)" "$(echo "$out" | field p50_ms)" \
      "$(echo "$out" | field p99_ms)" "${errors:-?}"
  done
done
