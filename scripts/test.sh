#!/usr/bin/env bash
# The test command: brings up every server the tests need and runs the whole
# suite, the tests that need those servers included. CI (.ci/run) calls
# exactly this; on a laptop it is the same command.
#
#   scripts/test.sh [cargo test arguments…]
#
# Each scripts/services/<name>.sh installs what it needs (Debian or npm
# packages), starts its server on 127.0.0.1 (state under target/services/),
# and prints `export VAR=value` lines that tell the tests where it is; the
# servers are stopped again on exit. With CRE_COCKPIT_SERVICES_ENV naming a
# file of such lines (servers someone already started), that file is read
# instead and nothing is started or stopped.
#
# A plain `cargo test` runs everything that needs no server and lists the
# rest as ignored with the server each needs; here they run, and one whose
# server is missing fails.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
stop_services() {
    for s in "${started[@]}"; do bash "$s" stop || true; done
}
trap stop_services EXIT

if [ -n "${CRE_COCKPIT_SERVICES_ENV:-}" ]; then
    echo "== using the servers in $CRE_COCKPIT_SERVICES_ENV" >&2
    # shellcheck disable=SC1090
    source "$CRE_COCKPIT_SERVICES_ENV"
else
    shopt -s nullglob
    for s in scripts/services/*.sh; do
        echo "== starting $(basename "$s" .sh)" >&2
        env_lines=$(bash "$s" start)
        started+=("$s")
        eval "$env_lines"
    done
fi

echo "== cargo test (every test, the server-backed ones included)" >&2
cargo test --locked "$@" -- --include-ignored
