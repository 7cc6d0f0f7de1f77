#!/usr/bin/env bash
# Offline validation of deploy/k8s (no cluster): render with kustomize, then check every
# object against the Kubernetes API schemas of the npm package kubernetes-models, rejecting
# unknown fields too (validate.cjs). Prints one line per object and PASS/FAIL last.
#
#   deploy/k8s/validate.sh [DIR]     (default deploy/k8s; any kustomization directory)
#
# Needs node + npm (Debian: nodejs npm; installed if missing) and the npm registry the first
# time: kubernetes-models and yaml go into $Q8_NPM_DIR (default /tmp/q8-k8s-npm), reused later.
# Rendering: `kubectl kustomize`, else `kustomize build`, else (neither is packaged in Debian 12)
# the files listed under `resources:` in kustomization.yaml, concatenated (RENDER=concat forces
# this).
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
if [ "$render" = auto ] && command -v kubectl >/dev/null && kubectl kustomize "$dir" >"$rendered" 2>/dev/null; then
  how="kubectl kustomize"
elif [ "$render" = auto ] && command -v kustomize >/dev/null && kustomize build "$dir" >"$rendered" 2>/dev/null; then
  how="kustomize build"
else
  how="concatenated resources"
  : >"$rendered"
  # The `resources:` list of kustomization.yaml: "  - file.yaml" lines until the next key.
  for f in $(awk '/^resources:/ {on=1; next} on && /^[^ #-]/ {on=0} on && /^ *- / {print $2}' \
               "$dir/kustomization.yaml"); do
    [ -f "$dir/$f" ] || fail "kustomization.yaml lists $f, which does not exist"
    { echo "---"; cat "$dir/$f"; } >>"$rendered"
  done
fi
echo "rendered $dir with $how"
Q8_NPM_DIR=$npm_dir node "$here/validate.cjs" "$rendered" || fail "invalid objects (above)"
echo "k8s-validate: PASS"
