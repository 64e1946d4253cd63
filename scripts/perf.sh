#!/usr/bin/env bash
# The performance record: runs the release cockpit in a real terminal (tmux)
# against the built-in simulator at scale, the simulator in a process of its
# own so that only the cockpit is measured, and reports
#   - time to the first frame, and to the first frame with the desk's data,
#   - CPU used while idle (nothing typed) over IDLE seconds,
#   - peak RSS of the cockpit, and of `snapshot --format json` (cron use),
#   - requests, bytes on the wire and bytes decoded per poll of each source
#     while nothing changes.
# Usage: bash scripts/perf.sh     (TICKETS=100000 CUSTOMERS=10000 IDLE=60)
#   PROFILE=FILE also records a `perf` profile of the cockpit over the idle
#   window (`perf report -i FILE`); its sampling then counts in the CPU figure.
# Prints a markdown table; nothing is left running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tickets=${TICKETS:-100000}
customers=${CUSTOMERS:-10000}
idle=${IDLE:-60}
every=${POLL_EVERY:-30s}
session=cre-cockpit-perf-$$

if ! command -v tmux >/dev/null; then
    echo "perf: installing tmux" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2
fi
(cd "$root" && cargo build --release --quiet)
bin="${CARGO_TARGET_DIR:-$root/target}/release/cre-cockpit"
home=$(mktemp -d)
log="$home/.local/state/cre-cockpit/cre-cockpit.log"
sim_pid=
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    rm -rf "$home"
}
trap cleanup EXIT

# The simulator, quiet for the whole run: its incident comes after an hour.
HOME="$home/sim" "$bin" simulate --tickets "$tickets" --customers "$customers" \
    --incident-after 1h >"$home/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 1 600); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$home/sim.out" | head -1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && break
    sleep 0.5
done
[ -n "$url" ] || { echo "perf: simulator did not start" >&2; cat "$home/sim.out" >&2; exit 1; }

tmux new-session -d -s "$session" -x 200 -y 50 \
    "env HOME=$home CRE_COCKPIT_LOG=info,cre_cockpit::app::poll=debug $bin demo --simulator $url --poll-every $every"

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

# The first read of a large desk spans several polls (Zendesk allows 10
# export pages a minute); wait until a desk poll finds nothing more to read.
for _ in $(seq 1 1200); do
    grep 'poll done' "$log" | grep -q 'source="\?desk"\? requests=1 ' && break
    sleep 0.5
done
loaded=$(grep 'poll done' "$log" | grep 'source="\?desk"\? requests=1 ' | head -1 | cut -c1-19)
# Idle: let the first polls settle, then count CPU ticks over the window.
sleep 5
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
polls_before=$(grep -c 'poll done' "$log")
before=$(ticks "$pid")
sim_before=$(ticks "$sim_pid")
if [ -n "${PROFILE:-}" ]; then
    perf record -F 199 --call-graph dwarf,16384 -p "$pid" -o "$PROFILE" -- sleep "$idle" >/dev/null 2>&1
else
    sleep "$idle"
fi
after=$(ticks "$pid")
sim_after=$(ticks "$sim_pid")
hz=$(getconf CLK_TCK)
share() { awk -v d="$1" -v hz="$hz" -v s="$idle" 'BEGIN {printf "%.1f", 100 * d / hz / s}'; }
cpu=$(share $((after - before)))
sim_cpu=$(share $((sim_after - sim_before)))
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
rss_now_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
sim_rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$sim_pid/status")

# Requests and bytes per poll, per source, over the idle window (median).
per_poll() {
    tail -n +"$((polls_before + 1))" <(grep 'poll done' "$log") | grep "source=\"\?$1\"\? " |
        sed -E 's/.*requests=([0-9]+) bytes=([0-9]+) wire=([0-9]+).*/\1 \2 \3/' | sort -n -k3 |
        awk '{r[NR]=$1; b[NR]=$2; w[NR]=$3} END {if (NR == 0) {print "no polls"} else {m=int((NR+1)/2); printf "%d requests, %.1f KiB on the wire, %.1f KiB decoded (median of %d polls)", r[m], w[m]/1024, b[m]/1024, NR}}'
}
desk=$(per_poll desk)
metrics=$(per_poll metrics)
incidents=$(per_poll incidents)

tmux send-keys -t "$session" q
sleep 1

# `snapshot --format json` against the same simulator, its peak RSS read
# from /proc while it runs (VmHWM is gone once it exits).
mkdir -p "$home/snap"
cat >"$home/snap/config.toml" <<TOML
[desk]
kind = "zendesk"
url = "$url"
email = "demo@cre-cockpit.invalid"
token_env = "PERF_TOKEN"
feature_field = "Product area"
segment_field = "Plan"

[metrics]
kind = "prometheus"
url = "$url"

[incidents]
kind = "pagerduty"
url = "$url"
token_env = "PERF_TOKEN"
from = "demo@cre-cockpit.invalid"

[accounts]
file = "$home/snap/accounts.csv"

[[slo]]
name = "api availability"
service = "api"
target = 0.99
window = "30d"
good = 'sum by (tenant) (increase(http_requests_total{code!~"5.."}[{{window}}]))'
valid = 'sum by (tenant) (increase(http_requests_total[{{window}}]))'
TOML
curl -sf "$url/accounts.csv" >"$home/snap/accounts.csv"
snap_start=$(date +%s.%N)
HOME="$home/snap" PERF_TOKEN=demo-token "$bin" snapshot --config "$home/snap/config.toml" \
    --format json >"$home/snap/out.json" 2>"$home/snap/err.txt" &
snap_pid=$!
snap_kb=0
while kill -0 "$snap_pid" 2>/dev/null; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$snap_pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$snap_kb" ] && snap_kb=$kb
    sleep 0.1
done
snap_rc=0
wait "$snap_pid" || snap_rc=$?
snap_s=$(awk -v a="$snap_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
snap_bytes=$(wc -c <"$home/snap/out.json")

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -srm), $(nproc) cores, $(awk '/^model name/ {sub(/^[^:]*: /, ""); print; exit}' /proc/cpuinfo)"
echo
echo "| what | measured | conditions |"
echo "|---|---|---|"
echo "| time to first frame | ${first} ms | release build, 200×50 tmux pane |"
echo "| time to first frame with the desk's data | ${first_data} ms | ${tickets} tickets, ${customers} customers, through the Zendesk export |"
echo "| cockpit CPU while idle | ${cpu} % of one core over ${idle} s | every source polled every ${every} |"
echo "| cockpit peak RSS | $((rss_kb / 1024)) MiB | ${tickets} tickets, ${customers} customers |"
echo "| cockpit RSS after the idle window | $((rss_now_kb / 1024)) MiB | the same, all of it loaded |"
echo "| \`snapshot --format json\` peak RSS | $((snap_kb / 1024)) MiB | exit ${snap_rc}, ${snap_s} s, $((snap_bytes / 1024)) KiB of JSON |"
echo "| desk poll, nothing changed | ${desk} | Zendesk incremental export |"
echo "| metrics poll, nothing changed | ${metrics} | Prometheus, ${customers} tenants, 1 SLO |"
echo "| incidents poll, nothing changed | ${incidents} | PagerDuty |"
echo "| (simulator CPU, its own process) | ${sim_cpu} % of one core | for context, not the cockpit's |"
echo "| (simulator peak RSS) | $((sim_rss_kb / 1024)) MiB | for context |"
