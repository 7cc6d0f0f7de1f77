#!/usr/bin/env bash
# Container test (CI stage 2, after deploy/setup.sh test): install the Docker engine from
# Debian's packages, make a local debian:bookworm base image with debootstrap (no registry
# pull), build the q8serve image, run it on loopback, call Predict through it, stop it; then
# bring up deploy/docker-compose.yml (two replicas + HAProxy) and load it through the balancer.
#
#   deploy/test-container.sh          # as root on Debian 12; prints PASS or FAIL last
#
# Environment: IMAGE (q8serve:ci), JOBS (2), Q8_TESTS (ON: the build stage runs the tests
# that need no ../shared), BUILD_TIMEOUT (2400 s), KEEP_DOCKERD=1 leaves a dockerd this
# script started running (later runs reuse it and its layer cache).
# Idempotent: packages, the base image and cached layers are reused; the containers, the
# compose project, the debootstrap rootfs and a dockerd it started are removed on exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
image=${IMAGE:-q8serve:ci}
base=debian:bookworm
jobs=${JOBS:-2}
q8_tests=${Q8_TESTS:-ON}
build_timeout=${BUILD_TIMEOUT:-2400}
# /usr/bin: the Debian package's client, whatever else is first on PATH.
docker=/usr/bin/docker
name=q8serve-ct-$$
started_dockerd=""
rootfs=""
compose_project=""
served_compose=()
t_start=$SECONDS

log() { printf '\033[1m[test-container %3ds]\033[0m %s\n' "$((SECONDS - t_start))" "$*" >&2; }
fail() {
  log "$*"
  echo "test-container: FAIL: $* ($((SECONDS - t_start)) s)"
  exit 1
}

cleanup() {
  local rc=$?
  if [ -x "$docker" ] && [ -n "$started_dockerd$(pgrep -x dockerd || true)" ]; then
    if [ "$rc" -ne 0 ] && "$docker" inspect "$name" >/dev/null 2>&1; then
      log "container log (last 30 lines):"
      "$docker" logs --tail 30 "$name" >&2 2>&1 || true
    fi
    "$docker" rm -f "$name" >/dev/null 2>&1 || true
    if [ -n "$compose_project" ]; then
      Q8_LB_PORT=1 docker-compose -p "$compose_project" -f "$repo/deploy/docker-compose.yml" \
        down -t 5 >/dev/null 2>&1 || true
    fi
  fi
  [ -n "$rootfs" ] && rm -rf "$rootfs"
  if [ -n "$started_dockerd" ] && [ "${KEEP_DOCKERD:-0}" != 1 ]; then
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.5; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || fail "run as root (installs packages, starts dockerd)"

# 1. Packages: the Docker engine, debootstrap, docker-compose (validates deploy/docker-compose.yml).
install_missing() {
  local missing=() p
  for p in docker.io debootstrap docker-compose python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get update -qq
  # '^docker[.]io$': an apt pattern naming exactly the package (see ../shared/deploy-notes.md).
  local pats=()
  for p in "${missing[@]}"; do [ "$p" = docker.io ] && pats+=('^docker[.]io$') || pats+=("$p"); done
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
    "${pats[@]}" >/dev/null
}
install_missing || fail "package installation failed"

# 2. dockerd: no systemd here, and apt's policy does not start it. Start it by hand.
if ! timeout 10 "$docker" info >/dev/null 2>&1; then
  log "starting dockerd"
  dockerd >/var/log/q8-dockerd.log 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do
    timeout 5 "$docker" info >/dev/null 2>&1 && break
    kill -0 "$started_dockerd" 2>/dev/null || fail "dockerd exited: $(tail -5 /var/log/q8-dockerd.log)"
    sleep 1
  done
  timeout 5 "$docker" info >/dev/null 2>&1 || fail "dockerd not ready after 60 s"
fi

# 3. Base image without a registry: debootstrap from the mirror apt already uses.
if ! "$docker" image inspect "$base" >/dev/null 2>&1; then
  sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
  [ -n "$sources" ] || fail "no /etc/apt/sources.list.d/*.sources to read the Debian mirror from"
  mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
  [ -n "$mirror" ] || fail "no URIs: line in $sources"
  rootfs=$(mktemp -d /tmp/q8-rootfs.XXXXXX)
  log "debootstrap bookworm from $mirror"
  timeout 600 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/tmp/q8-debootstrap.log 2>&1 \
    || fail "debootstrap failed: $(tail -3 /tmp/q8-debootstrap.log)"
  rm -f "$rootfs/etc/apt/sources.list"
  cp "$sources" "$rootfs/etc/apt/sources.list.d/"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$base" >/dev/null || fail "docker import failed"
  rm -rf "$rootfs"
  rootfs=""
fi

# 4. docker-compose file: valid?
if command -v docker-compose >/dev/null; then
  docker-compose -f "$repo/deploy/docker-compose.yml" config -q \
    || fail "deploy/docker-compose.yml does not validate"
  log "deploy/docker-compose.yml: valid"
fi

# 5. The image.
log "building $image (JOBS=$jobs, Q8_TESTS=$q8_tests)"
t_build=$SECONDS
timeout "$build_timeout" "$docker" build -t "$image" --build-arg JOBS="$jobs" \
  --build-arg Q8_TESTS="$q8_tests" "$repo" >/tmp/q8-docker-build.log 2>&1 \
  || { tail -40 /tmp/q8-docker-build.log >&2; fail "docker build failed (log: /tmp/q8-docker-build.log)"; }
size_mb=$(( $("$docker" image inspect -f '{{.Size}}' "$image") / 1000000 ))
log "built $image in $((SECONDS - t_build)) s: ${size_mb} MB"
user=$("$docker" image inspect -f '{{.Config.User}}' "$image")
case "$user" in "" | root | 0 | 0:*) fail "image runs as root" ;; esac

# 6. Run it on free loopback ports (host network: nothing leaves 127.0.0.1).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
grpc_port=$(free_port)
metrics_port=$(free_port)
[ "$grpc_port" != "$metrics_port" ] || metrics_port=$(free_port)
log "running on 127.0.0.1:$grpc_port (gRPC), :$metrics_port (metrics)"
"$docker" run -d --name "$name" --network host \
  -e GRPC_PORT="$grpc_port" -e METRICS_PORT="$metrics_port" \
  "$image" --host=127.0.0.1 >/dev/null || fail "docker run failed"

# q8c from the image itself, with the examples mounted read-only.
q8c() {
  "$docker" run --rm --network host -v "$repo/deploy/examples:/examples:ro" \
    --entrypoint q8c "$image" "$@"
}
for _ in $(seq 1 60); do
  [ "$("$docker" inspect -f '{{.State.Running}}' "$name")" = true ] || fail "container exited"
  q8c health --target="127.0.0.1:$grpc_port" --timeout-ms=1000 >/dev/null 2>&1 && break
  sleep 1
done
q8c health --target="127.0.0.1:$grpc_port" --timeout-ms=2000 >/dev/null || fail "not SERVING after 60 s"
log "SERVING"

argmax='import json,sys; d=json.load(sys.stdin)["outputs"]["logits"]["data"]; print(d.index(max(d)))'
for api in tfs kserve; do
  digit=$(q8c predict --target="127.0.0.1:$grpc_port" --model=digits --api="$api" \
            --json-input=/examples/digits/sample_0.json | python3 -c "$argmax") \
    || fail "Predict ($api) through the container failed"
  [ "$digit" = 6 ] || fail "Predict ($api): argmax $digit, expected 6"
  log "Predict over $api: sample_0.json → $digit"
done
python3 - "$metrics_port" <<'EOF' || fail "metrics do not count the two OK requests"
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
ok = sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
         if l.startswith("q8serve_requests_total{") and 'status="OK"' in l)
sys.exit(0 if ok >= 2 else 1)
EOF

# Docker's own HEALTHCHECK (q8c health inside the container) must report healthy.
for _ in $(seq 1 40); do
  [ "$("$docker" inspect -f '{{.State.Health.Status}}' "$name")" = healthy ] && break
  sleep 1
done
health=$("$docker" inspect -f '{{.State.Health.Status}}' "$name")
[ "$health" = healthy ] || fail "HEALTHCHECK status '$health' after 40 s"
log "HEALTHCHECK: healthy"

# 7. Graceful stop: SIGTERM → drain → exit 0 well within docker's 10 s grace.
t_stop=$SECONDS
timeout 30 "$docker" stop -t 10 "$name" >/dev/null || fail "docker stop failed"
code=$("$docker" inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "container exited with $code after SIGTERM"
log "stopped after SIGTERM in $((SECONDS - t_stop)) s, exit code 0"

# 8. docker-compose: two replicas + HAProxy (image built FROM debian:bookworm) on a bridge
# network, the balancer published on a free loopback port; q8c bench through it, and both
# replicas must have served (read from inside the network: the image has bash, not curl).
compose_project=q8ct$$
compose() {
  Q8_IMAGE=$image Q8_LB_PORT=$lb_port timeout 300 docker-compose -p "$compose_project" \
    -f "$repo/deploy/docker-compose.yml" "$@"
}
lb_port=$(free_port)
t_compose=$SECONDS
compose build -q lb >/tmp/q8-compose.log 2>&1 || fail "docker-compose build lb failed (/tmp/q8-compose.log)"
compose up -d --no-build >>/tmp/q8-compose.log 2>&1 || fail "docker-compose up failed (/tmp/q8-compose.log)"
for _ in $(seq 1 30); do
  q8c health --target="127.0.0.1:$lb_port" --timeout-ms=1000 >/dev/null 2>&1 && break
  sleep 1
done
bench=$(q8c bench --target="127.0.0.1:$lb_port" --model=digits --requests=400 --concurrency=4 \
          --json-input=/examples/digits/sample_0.json) || fail "bench through the compose balancer: $bench"
for r in q8serve-a q8serve-b; do
  n=$("$docker" run --rm --network "${compose_project}_default" --entrypoint bash "$image" -c \
        "exec 3<>/dev/tcp/$r/8502; printf 'GET /metrics HTTP/1.0\r\nHost: $r\r\n\r\n' >&3; cat <&3" |
      awk '/^q8serve_requests_total\{/ {s += $NF} END {printf "%d", s}')
  [ "${n:-0}" -gt 0 ] || fail "compose: $r served no request"
  served_compose+=("$r $n")
done
compose down -t 15 >>/tmp/q8-compose.log 2>&1 || fail "docker-compose down failed"
compose_project=""
log "docker-compose: 400 requests through HAProxy, ok; served ${served_compose[*]} ($((SECONDS - t_compose)) s)"

echo "test-container: PASS (image $image ${size_mb} MB, $((SECONDS - t_start)) s)"
