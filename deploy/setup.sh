#!/usr/bin/env bash
# q8serve's two set-up commands, for a fresh Debian 12 machine (root, or a user with sudo):
#
#   deploy/setup.sh serve   install what is missing, build, run the server on deploy/models
#   deploy/setup.sh test    install what is missing, build, run every test (CI runs this)
#
# Environment: BUILD_DIR (default build), JOBS (default 2), GRPC_PORT (8500),
# METRICS_PORT (8502), Q8_SHARED_DIR (default ../shared beside the repository).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
jobs=${JOBS:-2}

# Every find_package in CMakeLists.txt maps to one of these Debian 12 packages.
packages=(
  g++ cmake make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev libre2-dev
  libdnnl-dev ocl-icd-opencl-dev   # oneDNN's CMake config looks for OpenCL
  libspdlog-dev prometheus-cpp-dev libonnx-dev
  libcivetweb-dev   # the metrics port's HTTP server (/metrics, /ready); prometheus-cpp-dev pulls it too
  flatbuffers-compiler flatbuffers-compiler-dev libflatbuffers-dev   # .tflite reader (static)
  libgtest-dev libgmock-dev libbenchmark-dev
)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # A package that apt could not provide must stop us here, not at configure time.
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || { log "package $p did not install"; exit 1; }
  done
}

configure() {
  # Configure once; later runs only rebuild what changed.
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    log "configuring $build_dir"
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
      ${Q8_SHARED_DIR:+-DQ8_SHARED_DIR="$Q8_SHARED_DIR"}
  fi
}

case "${1:-}" in
  serve)
    install_missing
    configure
    cmake --build "$build_dir" -j"$jobs" --target q8serve q8c
    log "serving $repo/deploy/models on gRPC :${GRPC_PORT:-8500}, metrics :${METRICS_PORT:-8502}/metrics"
    exec "$build_dir/server/q8serve" --model-repository="$repo/deploy/models" \
      --grpc-port="${GRPC_PORT:-8500}" --metrics-port="${METRICS_PORT:-8502}"
    ;;
  test)
    install_missing
    configure
    cmake --build "$build_dir" -j"$jobs"
    ctest --test-dir "$build_dir" --output-on-failure -j"$jobs"
    ;;
  *)
    echo "usage: deploy/setup.sh serve|test" >&2
    exit 2
    ;;
esac
