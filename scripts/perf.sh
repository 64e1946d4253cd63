#!/usr/bin/env bash
# The performance record: runs the release cockpit in a real terminal (tmux)
# against the built-in simulator at scale and measures
#   - time to the first frame, and to the first frame with the desk's data,
#   - CPU used while idle (nothing typed) over IDLE seconds,
#   - peak RSS.
# Usage: bash scripts/perf.sh            (TICKETS=100000 CUSTOMERS=10000 IDLE=60)
# Prints a markdown table; nothing is left running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tickets=${TICKETS:-100000}
customers=${CUSTOMERS:-10000}
idle=${IDLE:-60}
session=cre-cockpit-perf-$$

if ! command -v tmux >/dev/null; then
    echo "perf: installing tmux" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2
fi
(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/cre-cockpit"
home=$(mktemp -d)
log="$home/.local/share/cre-cockpit/cre-cockpit.log"
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$home"
}
trap cleanup EXIT

tmux new-session -d -s "$session" -x 200 -y 50 \
    "env HOME=$home CRE_COCKPIT_LOG=info $bin demo --tickets $tickets --customers $customers"

# Wait (up to 10 minutes) for the first frame with the desk's data.
for _ in $(seq 1 1200); do
    grep -q "first frame with desk data" "$log" 2>/dev/null && break
    sleep 0.5
done
grep -q "first frame with desk data" "$log" || { echo "perf: no desk data after 10 minutes" >&2; tail -20 "$log" >&2; exit 1; }
pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
# The pane runs `env`, which execs the cockpit: same pid.
first=$(grep -o 'first frame drawn ms=[0-9]*' "$log" | head -1 | grep -o '[0-9]*$')
first_data=$(grep 'first frame with desk data' "$log" | head -1 | grep -o 'ms=[0-9]*' | grep -o '[0-9]*$')

# Idle: let the first polls settle, then count CPU ticks over the window.
sleep 10
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
sleep "$idle"
after=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v d="$((after - before))" -v hz="$hz" -v s="$idle" 'BEGIN {printf "%.2f", 100 * d / hz / s}')
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")

tmux send-keys -t "$session" q
sleep 1

echo "| what | measured | conditions |"
echo "|---|---|---|"
echo "| time to first frame | ${first} ms | release build, 200×50 tmux pane |"
echo "| time to first frame with the desk's data | ${first_data} ms | ${tickets} tickets, ${customers} customers, through the Zendesk export |"
echo "| CPU while idle | ${cpu} % of one core over ${idle} s | demo polling every 5 s |"
echo "| peak RSS | $((rss_kb / 1024)) MiB | ${tickets} tickets, ${customers} customers |"
