#!/usr/bin/env bash
# Fast static checks of deploy/ (seconds; no build, no containers):
# script syntax, Kubernetes manifests (and that the validator rejects bad ones), the
# Grafana dashboard and Prometheus config (parse; metric names exist in the server), the
# balancer configs (haproxy -c / nginx -t when installed), docker-compose.yml (when
# docker-compose is installed). Prints PASS/FAIL last.
#   tests/deploy/run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/q8-deploy-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
check() {  # NAME COMMAND...
  local name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ok    $name"; else
    echo "FAIL  $name"; sed 's/^/      /' "$tmp/out" | tail -20; failed=1; fi
}
not() { ! "$@"; }

for s in "$repo"/deploy/*.sh "$repo"/deploy/k8s/validate.sh "$repo"/tests/deploy/run.sh; do
  check "bash -n ${s#"$repo"/}" bash -n "$s"
done
check "deploy/k8s validates" "$repo/deploy/k8s/validate.sh"
check "deploy/k8s validates (concatenated, no kustomize)" env RENDER=concat "$repo/deploy/k8s/validate.sh"
check "deploy/k8s-models-pvc (overlay) validates" "$repo/deploy/k8s/validate.sh" "$repo/deploy/k8s-models-pvc"
check "validator rejects tests/deploy/k8s-invalid" not "$repo/deploy/k8s/validate.sh" "$repo/tests/deploy/k8s-invalid"
grep -q "readinesProbe unknown field" "$tmp/out" || { echo "FAIL  unknown field not reported"; cat "$tmp/out"; failed=1; }
check "observability files parse, metric names exist" /usr/bin/python3 - "$repo" <<'PY'
import json, re, sys, yaml
repo = sys.argv[1]
known = set(re.findall(r'Name\("(q8serve_[a-z_]+)"\)', open(f"{repo}/server/metrics/metrics.cc").read()))
assert known, "no metric names found in server/metrics/metrics.cc"
d = json.load(open(f"{repo}/deploy/observability/grafana-dashboard.json"))
assert d["panels"], "no panels"
for p in d["panels"]:
    for t in p["targets"]:
        for m in re.findall(r"q8serve_[a-z_]+", t["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            assert m in known or base in known, f"panel '{p['title']}': unknown metric {m}"
c = yaml.safe_load(open(f"{repo}/deploy/observability/prometheus.yml"))
assert c["scrape_configs"], "no scrape_configs"
print(len(d["panels"]), "panels,", len(c["scrape_configs"]), "scrape jobs")
PY
# The balancer and compose checks need their programs; deploy/test-lb.sh and
# deploy/test-container.sh install them and run the configs for real.
skip() { echo "skip  $1 ($2 not installed; deploy/$3 installs it and runs the file)"; }
if command -v haproxy >/dev/null; then
  check "haproxy -c deploy/lb/haproxy.cfg" env Q8_LB_BIND=127.0.0.1:1 Q8_BACKEND1=127.0.0.1:2 \
    Q8_BACKEND2=127.0.0.1:3 Q8_CHECK_PORT1=4 Q8_CHECK_PORT2=5 haproxy -c -f "$repo/deploy/lb/haproxy.cfg"
else
  skip "haproxy -c deploy/lb/haproxy.cfg" haproxy test-lb.sh
fi
if command -v nginx >/dev/null; then
  sed -e "s|@RUN_DIR@|$tmp|g" -e "s|@LB_LISTEN@|127.0.0.1:1|g" -e "s|@BACKEND1@|127.0.0.1:2|g" \
    -e "s|@BACKEND2@|127.0.0.1:3|g" "$repo/deploy/lb/nginx.conf" >"$tmp/nginx.conf"
  check "nginx -t deploy/lb/nginx.conf" nginx -t -c "$tmp/nginx.conf"
else
  skip "nginx -t deploy/lb/nginx.conf" nginx test-lb.sh
fi
if command -v docker-compose >/dev/null; then
  check "docker-compose config deploy/docker-compose.yml" \
    docker-compose -f "$repo/deploy/docker-compose.yml" config -q
else
  skip "docker-compose config deploy/docker-compose.yml" docker-compose test-container.sh
fi
if [ "$failed" = 0 ]; then echo "deploy-static: PASS"; else echo "deploy-static: FAIL"; exit 1; fi
