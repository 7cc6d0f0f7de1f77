#!/usr/bin/env bash
# Load-balancer test on loopback: two q8serve replicas (the binary, not containers) behind
# HAProxy and/or nginx; `q8c bench` sends Predict calls through the balancer while one
# replica is stopped mid-run.
#
#   deploy/test-lb.sh [haproxy|nginx|all]      (default all; needs build/ from setup.sh)
#
# Reports per run: requests, errors by gRPC code, requests answered by each replica (its
# q8serve_requests_total: replica a's total from its exit log line "answered N inference
# requests", so calls it served during its shutdown count; a SIGKILLed one has no exit,
# so its /metrics is read just before the signal), throughput, p99.
# Three runs per balancer: SIGKILL; SIGTERM (q8serve answers GET /ready with 503 at once,
# keeps serving for --shutdown-delay-secs, 2 s, then drains; HAProxy health-checks /ready on
# each replica's metrics port); and "drain": the balancer first stops sending new
# requests to the replica (HAProxy: runtime API `set server ... state drain`; nginx:
# reload with the server marked down), 1 s later the replica gets SIGTERM.
# Pass: each replica answered >= 20 % of the calls before the signal; drain runs 0 errors, a
# SIGTERMed replica exits 0; SIGKILL and SIGTERM runs <= 0.5 % errors (STRICT_TERM=1: SIGTERM runs must have 0 errors too; .ci/run sets it).
# Environment: BUILD_DIR (build), CONCURRENCY (16), DURATION (6 s), KILL_AT (2 s), DRAIN_WAIT
# (1 s), THREADS (1, per replica), SHUTDOWN_DELAY (2 s, q8serve --shutdown-delay-secs),
# RUNS (1: each balancer's three runs this many times), RESULTS (also write the table to
# this file). Installs haproxy / nginx-light if missing. Every process it starts is
# stopped on exit; ~75 s per round.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
q8serve=$build_dir/server/q8serve
q8c=$build_dir/client/q8c
concurrency=${CONCURRENCY:-16}
duration=${DURATION:-6}
kill_at=${KILL_AT:-2}
threads=${THREADS:-1}
shutdown_delay=${SHUTDOWN_DELAY:-2}
runs=${RUNS:-1}
lbs=${1:-all}
[ "$lbs" = all ] && lbs="haproxy nginx"
work=$(mktemp -d /tmp/q8-lb.XXXXXX)
pids=()
t_start=$SECONDS

log() { printf '\033[1m[test-lb %3ds]\033[0m %s\n' "$((SECONDS - t_start))" "$*" >&2; }
fail() { log "$*"; echo "test-lb: FAIL: $*"; exit 1; }

stop_pid() {  # TERM, then KILL after 10 s (q8serve: delay + a drain of up to 5 s)
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$q8serve" ] && [ -x "$q8c" ] || fail "build first: $q8serve, $q8c (deploy/setup.sh test)"
for lb in $lbs; do
  case "$lb" in
    haproxy) pkg=haproxy; bin=haproxy ;;
    nginx) pkg=nginx-light; bin=nginx ;;
    *) fail "unknown balancer '$lb' (haproxy, nginx, all)" ;;
  esac
  if ! command -v "$bin" >/dev/null; then
    log "installing $pkg"
    [ "$(id -u)" -eq 0 ] || fail "$bin missing: apt-get install $pkg"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
      --no-install-recommends "$pkg" >/dev/null
  fi
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Sum of q8serve_requests_total over every label set (0 if unreachable; python3, which the
# script needs anyway, rather than curl, which a fresh machine may lack).
served() {
  python3 - "$1" <<'EOF' 2>/dev/null || echo 0
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=2).read().decode()
print(int(sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("q8serve_requests_total{"))))
EOF
}
# The count a replica logged at exit: "q8serve stopped; answered N inference requests".
answered() {
  sed -n 's/.*q8serve stopped; answered \([0-9]*\) inference requests.*/\1/p' "$1" | tail -1
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

start_replica() {  # NAME → sets port_NAME, mport_NAME, pid_NAME
  local n=$1
  rm -f "$work/$n.ready"
  "$q8serve" --model-repository="$repo/deploy/models" --host=127.0.0.1 --grpc-port=0 \
    --metrics-port=0 --threads="$threads" --ready-file="$work/$n.ready" --log-level=info \
    --shutdown-delay-secs="$shutdown_delay" >"$work/$n.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do [ -f "$work/$n.ready" ] && break; sleep 0.1; done
  [ -f "$work/$n.ready" ] || fail "replica $n not ready after 10 s: $(tail -3 "$work/$n.log")"
  printf -v "port_$n" '%s' "$(json_field "$work/$n.ready" grpc_port)"
  printf -v "mport_$n" '%s' "$(json_field "$work/$n.ready" metrics_port)"
  printf -v "pid_$n" '%s' "$pid"
}

start_lb() {  # LB PORT → sets pid_lb
  local lb=$1 port=$2
  case "$lb" in
    haproxy)
      # A second file adds the admin socket the drain run uses.
      printf 'global\n    stats socket %s level admin\n' "$work/haproxy.sock" >"$work/admin.cfg"
      Q8_LB_BIND=127.0.0.1:$port Q8_BACKEND1=127.0.0.1:$port_a Q8_BACKEND2=127.0.0.1:$port_b \
        Q8_CHECK_PORT1=$mport_a Q8_CHECK_PORT2=$mport_b haproxy -db -f "$repo/deploy/lb/haproxy.cfg" -f "$work/admin.cfg" >"$work/haproxy.log" 2>&1 &
      ;;
    nginx)
      local d=$work/nginx
      mkdir -p "$d"
      sed -e "s|@RUN_DIR@|$d|g" -e "s|@LB_LISTEN@|127.0.0.1:$port|g" \
        -e "s|@BACKEND1@|127.0.0.1:$port_a|g" -e "s|@BACKEND2@|127.0.0.1:$port_b|g" \
        "$repo/deploy/lb/nginx.conf" >"$d/nginx.conf"
      nginx -c "$d/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
      ;;
  esac
  pid_lb=$!
  pids+=("$pid_lb")
}

# Stops new requests to replica a at the balancer; in-flight ones complete.
drain_a() {
  case "$1" in
    haproxy)
      python3 - "$work/haproxy.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"set server q8serve/r1 state drain\n"); s.recv(4096)
EOF
      ;;
    nginx)
      sed -i "s|server 127.0.0.1:$port_a |server 127.0.0.1:$port_a down |" "$work/nginx/nginx.conf"
      kill -HUP "$pid_lb"
      ;;
  esac
}

rows=()
failures=()
run() {  # LB KILL|TERM|DRAIN
  local lb=$1 sig=$2 lb_port label
  case "$sig" in KILL) label=SIGKILL ;; TERM) label=SIGTERM ;; DRAIN) label="drain, then SIGTERM" ;; esac
  start_replica a
  start_replica b
  lb_port=$(free_port)
  start_lb "$lb" "$lb_port"
  local ok=""
  for _ in $(seq 1 50); do
    "$q8c" health --target="127.0.0.1:$lb_port" --timeout-ms=500 >/dev/null 2>&1 && { ok=1; break; }
    kill -0 "$pid_lb" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$ok" ] || fail "$lb on :$lb_port not SERVING after 10 s: $(tail -3 "$work/$lb.log")"

  log "$lb, $label: $concurrency workers for ${duration}s through 127.0.0.1:$lb_port; replica a (:$port_a): $label at ${kill_at}s"
  timeout $((duration + 30)) "$q8c" bench --target="127.0.0.1:$lb_port" --model=digits \
    --json-input="$repo/deploy/examples/digits/sample_0.json" --concurrency="$concurrency" \
    --duration-s="$duration" --timeout-ms=10000 >"$work/bench.json" 2>"$work/bench.err" &
  local bench=$!
  sleep "$kill_at"
  # Both replicas must have taken a real share before the signal: a balancer that pinned
  # every call to b would pass the error checks below without testing anything.
  local before_a before_b
  before_a=$(served "$mport_a")
  before_b=$(served "$mport_b")
  if ! python3 -c 'import sys; a, b = map(int, sys.argv[1:]); sys.exit(0 if min(a, b) >= 0.2 * max(1, a + b) else 1)' \
      "$before_a" "$before_b"; then
    failures+=("$lb $label: before the signal a answered $before_a, b $before_b (want each >= 20 %)")
  fi
  local served_a victim_rc=-
  if [ "$sig" = DRAIN ]; then
    drain_a "$lb"
    sleep "${DRAIN_WAIT:-1}"
    kill -TERM "$pid_a"
  elif [ "$sig" = KILL ]; then
    served_a="$before_a (before)"
    kill -KILL "$pid_a"
  else
    kill -TERM "$pid_a"
  fi
  if [ "$sig" != KILL ]; then
    for _ in $(seq 1 120); do kill -0 "$pid_a" 2>/dev/null || break; sleep 0.1; done
  fi
  set +e
  wait "$pid_a"
  victim_rc=$?
  [ "$sig" = KILL ] || served_a=$(answered "$work/a.log")
  [ -n "$served_a" ] || served_a="? (no exit line)"
  wait "$bench"
  local bench_rc=$?
  set -e
  [ -s "$work/bench.json" ] || fail "q8c bench printed nothing (exit $bench_rc): $(cat "$work/bench.err")"
  local served_b
  served_b=$(served "$mport_b")
  local row
  row=$(python3 - "$work/bench.json" "$lb" "$label" "$served_a" "$served_b" "$victim_rc" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
lb, sig, a, bb, rc = sys.argv[2:7]
errs = sum(b["errors"].values())
codes = ",".join(f"{k}:{v}" for k, v in sorted(b["errors"].items())) or "-"
pct = 100.0 * errs / max(1, b["requests"])
print(f"| {lb} | {sig} | {b['requests']} | {errs} ({pct:.2f} %) | {codes} | {a} | {bb} | {rc} "
      f"| {b['throughput_per_s']:.0f} | {b['p50_ms']:.2f} | {b['p99_ms']:.2f} |\t{errs}\t{pct}")
EOF
)
  local errs pct
  errs=$(cut -f2 <<<"$row")
  pct=$(cut -f3 <<<"$row")
  rows+=("$(cut -f1 <<<"$row")")
  if [ "$sig" = DRAIN ] && [ "$errs" != 0 ]; then failures+=("$lb drain+SIGTERM: $errs errors"); fi
  if [ "$sig" = TERM ] && [ "${STRICT_TERM:-0}" = 1 ] && [ "$errs" != 0 ]; then
    failures+=("$lb SIGTERM: $errs errors")
  fi
  if [ "$sig" != DRAIN ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 else 1)" "$pct"; then
    failures+=("$lb SIG$sig: $pct % errors > 0.5 %")
  fi
  if [ "$sig" != KILL ] && [ "$victim_rc" != 0 ]; then failures+=("$lb $sig: replica exited $victim_rc"); fi
  log "$(cut -f1 <<<"$row")"
  stop_pid "$pid_lb"
  stop_pid "$pid_b"
  wait 2>/dev/null || true
  pids=()
}

for _ in $(seq 1 "$runs"); do
  for lb in $lbs; do
    run "$lb" KILL
    run "$lb" TERM
    run "$lb" DRAIN
  done
done

table=$(
  echo "| balancer | replica a at ${kill_at} s | requests | errors | by code | answered by a (at its exit; SIGKILL: before the signal) | answered by b | a's exit | req/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)
echo "$table"
[ -z "${RESULTS:-}" ] || echo "$table" >"$RESULTS"
echo "(concurrency $concurrency, ${duration} s per run, signal at ${kill_at} s, --shutdown-delay-secs=$shutdown_delay, $threads thread(s) per replica, loopback)"
if [ ${#failures[@]} -gt 0 ]; then
  fail "$(IFS='; '; echo "${failures[*]}")"
fi
echo "test-lb: PASS ($((SECONDS - t_start)) s)"
