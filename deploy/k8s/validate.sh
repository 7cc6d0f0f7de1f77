#!/usr/bin/env bash
# Offline validation of deploy/k8s (no cluster): render with kustomize, then check every
# object against the Kubernetes API schemas of the npm package kubernetes-models, rejecting
# unknown fields too (validate.cjs). Prints one line per object and PASS/FAIL last.
#
#   deploy/k8s/validate.sh [DIR]     (default deploy/k8s; any kustomization directory)
#
# Needs node + npm (Debian: nodejs npm; installed if missing) and the npm registry the first
# time: kubernetes-models and yaml go into $Q8_NPM_DIR (default /tmp/q8-k8s-npm), reused later.
# Rendering: `kubectl kustomize`, else `kustomize build`; with neither, Debian 12's
# kubernetes-client (kubectl 1.20, kustomize built in) is installed. A render that fails is a
# FAIL, never skipped. RENDER=concat instead concatenates the files listed under `resources:`
# (for machines where nothing can be installed; it ignores `images:` and other transforms).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "${1:-$here}" && pwd)
npm_dir=${Q8_NPM_DIR:-/tmp/q8-k8s-npm}
rendered=$(mktemp /tmp/q8-k8s-rendered.XXXXXX.yaml)
trap 'rm -f "$rendered"' EXIT

fail() { echo "k8s-validate: FAIL: $*"; exit 1; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  [ "$(id -u)" -eq 0 ] || fail "node and npm are needed: apt-get install nodejs npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
    --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -f "$npm_dir/node_modules/kubernetes-models/package.json" ] ||
   [ ! -f "$npm_dir/node_modules/yaml/package.json" ]; then
  mkdir -p "$npm_dir"
  [ -f "$npm_dir/package.json" ] || echo '{"name":"q8-k8s-validate","private":true}' >"$npm_dir/package.json"
  (cd "$npm_dir" && timeout 300 npm install --silent --no-audit --no-fund \
     kubernetes-models@4 yaml@2 >/dev/null 2>&1) || fail "npm install kubernetes-models yaml failed"
fi

render=${RENDER:-auto}
if [ "$render" = auto ] && ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
  [ "$(id -u)" -eq 0 ] || fail "kubectl or kustomize is needed to render: apt-get install kubernetes-client"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
    --no-install-recommends kubernetes-client >/dev/null || fail "apt-get install kubernetes-client failed"
fi
if [ "$render" = concat ]; then
  how="concatenated resources (RENDER=concat)"
  : >"$rendered"
  # The `resources:` list of kustomization.yaml: "  - file.yaml" lines until the next key.
  for f in $(awk '/^resources:/ {on=1; next} on && /^[^ #-]/ {on=0} on && /^ *- / {print $2}' \
               "$dir/kustomization.yaml"); do
    [ -f "$dir/$f" ] || fail "kustomization.yaml lists $f, which does not exist"
    { echo "---"; cat "$dir/$f"; } >>"$rendered"
  done
elif command -v kubectl >/dev/null; then
  how="kubectl kustomize ($(kubectl version --client 2>/dev/null | head -1))"
  kubectl kustomize "$dir" >"$rendered" || fail "kubectl kustomize $dir failed (above)"
else
  how="kustomize build"
  kustomize build "$dir" >"$rendered" || fail "kustomize build $dir failed (above)"
fi
echo "rendered $dir with $how"
Q8_NPM_DIR=$npm_dir node "$here/validate.cjs" "$rendered" || fail "invalid objects (above)"
echo "k8s-validate: PASS"
