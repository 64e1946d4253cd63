#!/usr/bin/env bash
# Prism mock servers generated from the vendors' OpenAPI specs in ../shared/specs,
# for contract tests of the Zendesk and PagerDuty adapters (real servers for those
# cannot run here). Requests that break the vendor's contract get 4xx from Prism.
#   start: npm-install Prism (pinned in package.json), start one mock per spec
#   stop:  stop the mocks this script started
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
specs=$(cd "$root/.." && pwd)/shared/specs
state="$root/target/services/prism"
# name  port  spec file
mocks=(
  "ZENDESK 29403 zendesk-support.openapi.yaml"
  "PAGERDUTY 29401 pagerduty-rest-v2.openapi.json"
  "PAGERDUTY_EVENTS 29404 pagerduty-events-v2.openapi.json"
)

stop() {
  for pid in "$state"/*.pid; do
    [ -e "$pid" ] || continue
    kill "$(cat "$pid")" 2>/dev/null || true
    rm -f "$pid"
  done
}

start() {
  if [ ! -d "$specs" ]; then
    echo "prism: $specs not found; the contract tests will say so" >&2
    return 0
  fi
  if [ ! -x "$root/node_modules/.bin/prism" ]; then
    echo "prism: installing @stoplight/prism-cli from package-lock.json" >&2
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  mkdir -p "$state"
  stop
  for m in "${mocks[@]}"; do
    read -r name port spec <<<"$m"
    "$root/node_modules/.bin/prism" mock "$specs/$spec" -h 127.0.0.1 -p "$port" \
      >"$state/$name.log" 2>&1 &
    echo $! >"$state/$name.pid"
  done
  for m in "${mocks[@]}"; do
    read -r name port spec <<<"$m"
    for _ in $(seq 1 120); do
      if grep -q "Prism is listening" "$state/$name.log" 2>/dev/null; then break; fi
      if ! kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
        echo "prism: mock for $spec died:" >&2; cat "$state/$name.log" >&2; exit 1
      fi
      sleep 0.5
    done
    grep -q "Prism is listening" "$state/$name.log" || { echo "prism: $spec mock did not start" >&2; exit 1; }
    echo "export CRE_COCKPIT_PRISM_${name}=http://127.0.0.1:$port"
    # The mock's log names each contract violation; tests point to it.
    echo "export CRE_COCKPIT_PRISM_${name}_LOG=$state/$name.log"
  done
  # For tests that start Prism themselves (proxy mode in front of the
  # simulator, validating its answers against the same specs).
  echo "export CRE_COCKPIT_PRISM_BIN=$root/node_modules/.bin/prism"
  echo "export CRE_COCKPIT_SPECS=$specs"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
