#!/usr/bin/env bash
# Real Prometheus and Alertmanager (Debian bookworm's packages) on loopback, for
# the metrics/SLO/alert integration tests.
#   start: apt-get install what is missing, backfill the seed metrics
#          (tests/fixtures/services/metrics-seed.txt) with promtool, start both
#          servers, post the seed alerts (one of them silenced), print the
#          variables the tests read
#   stop:  stop the servers this script started (by pid file)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state="$root/target/services/prometheus"
fixtures="$root/tests/fixtures/services"
prom_port=29390
am_port=29393

log() { echo "prometheus.sh: $*" >&2; }

# Stop one server by its pid file, only if the pid still runs what we started.
stop_one() {
  local pidfile=$1 expect=$2 pid
  [ -e "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$expect"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -d "/proc/$pid" ] || break
      # A zombie waiting for its reaper has stopped.
      grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.2
    done
    [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  stop_one "$state/prometheus.pid" "--config.file=$state/prometheus.yml"
  stop_one "$state/alertmanager.pid" "--config.file=$state/alertmanager.yml"
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install() {
  local missing=()
  for p in prometheus prometheus-alertmanager curl jq; do
    installed "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  # Keep Debian from starting its own services (:9090, :9093, node-exporter)
  # during the install; remove the policy only if we created it.
  local made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local apt=(-o DPkg::Lock::Timeout=300 -qq)
  if ! DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2; then
    apt-get "${apt[@]}" update >&2
    DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2
  fi
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# OpenMetrics for promtool from the seed table. Counters are integrated
# exactly at each sample time (no running sums), so a window's increase is
# the segment rates times their overlap with it.
generate() {
  local epoch=$1
  awk -v E="$epoch" '
    function secs(s,   n, u) {
      u = substr(s, length(s)); n = substr(s, 1, length(s) - 1) + 0
      if (u == "m") return n * 60
      if (u == "h") return n * 3600
      if (u == "d") return n * 86400
      printf "bad offset %s on line %d\n", s, NR > "/dev/stderr"; exit 1
    }
    /^[ \t]*(#|$)/ { next }
    $1 == "requests" {
      key = $2 SUBSEP $3
      if (!(key in seen)) { seen[key] = 1; order[++nseries] = key }
      n = ++nseg[key]
      from[key, n] = E + secs($4); to[key, n] = E + secs($5)
      per_s[key, n] = $6 / 60; ratio[key, n] = $7
      next
    }
    $1 == "users" { u = ++nusers; utenant[u] = $2; ufrom[u] = E + secs($3); uto[u] = E + secs($4); uval[u] = $5
      if (!($2 in useen)) { useen[$2] = 1; uorder[++nut] = $2 }; next }
    $1 == "feature" { nf++; ftenant[nf] = $2; fname[nf] = $3; next }
    { printf "unknown row %s on line %d\n", $1, NR > "/dev/stderr"; exit 1 }
    # Sample times: every 5 min, every minute from 7 h before E on (so that
    # rate(...[5m]) has several samples wherever the tests and "now" look).
    function times(   t, n) {
      n = 0
      for (t = start; t < E - 7 * 3600; t += 300) T[++n] = t
      for (; t <= stop; t += 60) T[++n] = t
      return n
    }
    function counter(key, t, errors,   i, lo, hi, c, r) {
      c = 0
      for (i = 1; i <= nseg[key]; i++) {
        lo = from[key, i]; hi = to[key, i]; if (hi > t) hi = t
        if (hi <= lo) continue
        r = per_s[key, i] * (hi - lo)
        c += errors ? r * ratio[key, i] : r * (1 - ratio[key, i])
      }
      return c
    }
    END {
      start = E - 31 * 86400; stop = E + 86400
      nt = times()
      print "# HELP http_requests Requests handled, by tenant, service and status code."
      print "# TYPE http_requests counter"
      for (s = 1; s <= nseries; s++) {
        split(order[s], parts, SUBSEP)
        for (code = 0; code <= 1; code++) {
          for (i = 1; i <= nt; i++)
            printf "http_requests_total{tenant=\"%s\",service=\"%s\",code=\"%s\"} %.17g %d\n", \
              parts[1], parts[2], code ? "500" : "200", counter(order[s], T[i], code), T[i]
        }
      }
      print "# HELP active_users Users active in the last day, by tenant."
      print "# TYPE active_users gauge"
      for (k = 1; k <= nut; k++) {
        for (t = start; t <= stop; t += 300) {
          v = ""
          for (u = 1; u <= nusers; u++) if (utenant[u] == uorder[k] && t >= ufrom[u] && t < uto[u]) v = uval[u]
          if (t == stop) for (u = 1; u <= nusers; u++) if (utenant[u] == uorder[k] && t == uto[u]) v = uval[u]
          if (v != "") printf "active_users{tenant=\"%s\"} %s %d\n", uorder[k], v, t
        }
      }
      print "# HELP feature_used Uses of a key feature, by tenant and feature."
      print "# TYPE feature_used counter"
      for (f = 1; f <= nf; f++)
        for (t = start; t <= stop; t += 3600)
          printf "feature_used_total{tenant=\"%s\",feature=\"%s\"} %d %d\n", ftenant[f], fname[f], (t - start) / 3600, t
      print "# EOF"
    }' "$fixtures/metrics-seed.txt"
}

wait_for() {
  local what=$1 url=$2 pidfile=$3
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    if [ ! -d "/proc/$(cat "$pidfile")" ]; then
      log "$what died:"; cat "$state/$what.log" >&2; return 1
    fi
    sleep 0.2
  done
  log "$what did not become ready"; return 1
}

start_prometheus() {
  local epoch=$1
  generate "$epoch" >"$state/seed.om"
  rm -rf "$state/tsdb"
  # By default promtool writes 2 h blocks: ~390 of them for 32 days, 26 s on
  # two cores. The (hidden) --max-block-duration makes it 3 blocks in < 1 s.
  promtool tsdb create-blocks-from openmetrics --max-block-duration=744h -q \
    "$state/seed.om" "$state/tsdb" >&2
  printf 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n' >"$state/prometheus.yml"
  # Retention counts from the newest block, not the wall clock: keep it long
  # so the 31-day-old seed blocks are not deleted at startup.
  nohup /usr/bin/prometheus --config.file="$state/prometheus.yml" \
    --storage.tsdb.path="$state/tsdb" --storage.tsdb.retention.time=3650d \
    --web.listen-address=127.0.0.1:$prom_port >"$state/prometheus.log" 2>&1 </dev/null &
  echo $! >"$state/prometheus.pid"
  wait_for prometheus "http://127.0.0.1:$prom_port/-/ready" "$state/prometheus.pid"
  local got
  got=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=count(active_users)' \
    --data-urlencode "time=$epoch" | jq -r '.data.result[0].value[1] // "none"')
  local want
  want=$(awk '$1 == "users" { t[$2] = 1 } END { print length(t) }' "$fixtures/metrics-seed.txt")
  if [ "$got" != "$want" ]; then
    log "prometheus: count(active_users) is $got, expected $want from the seed"; return 1
  fi
}

start_alertmanager() {
  local epoch=$1
  cat >"$state/alertmanager.yml" <<'YAML'
global:
  resolve_timeout: 24h
route:
  receiver: discard
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 24h
receivers:
  - name: discard
YAML
  rm -rf "$state/alertmanager-data"
  # An empty cluster address keeps Alertmanager off *:9094 (gossip).
  nohup /usr/bin/prometheus-alertmanager --config.file="$state/alertmanager.yml" \
    --storage.path="$state/alertmanager-data" --web.listen-address=127.0.0.1:$am_port \
    --cluster.listen-address= >"$state/alertmanager.log" 2>&1 </dev/null &
  echo $! >"$state/alertmanager.pid"
  wait_for alertmanager "http://127.0.0.1:$am_port/-/ready" "$state/alertmanager.pid"
  local am="http://127.0.0.1:$am_port/api/v2"
  # Alerts end a day after the seed so they stay active for the test run.
  jq --argjson e "$epoch" 'map(.startsAt = (($e - .starts_before_seed_s) | todate)
      | .endsAt = (($e + 86400) | todate) | del(.starts_before_seed_s))' \
    "$fixtures/alerts-seed.json" | curl -fsS -X POST -H 'Content-Type: application/json' \
    --data-binary @- "$am/alerts" >&2
  local silence
  silence=$(jq -n --arg s "$(date -u -d "@$((epoch - 3600))" +%Y-%m-%dT%H:%M:%SZ)" \
    --arg e "$(date -u -d "@$((epoch + 86400))" +%Y-%m-%dT%H:%M:%SZ)" '{
      matchers: [{name: "alertname", value: "LatencyP99High", isRegex: false, isEqual: true},
                 {name: "tenant", value: "acme", isRegex: false, isEqual: true}],
      startsAt: $s, endsAt: $e, createdBy: "cre-cockpit-ci", comment: "checkout maintenance"}' |
    curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- "$am/silences" | jq -r .silenceID)
  local want total suppressed
  want=$(jq length "$fixtures/alerts-seed.json")
  for _ in $(seq 1 100); do
    total=$(curl -fsS "$am/alerts" | jq length)
    suppressed=$(curl -fsS "$am/alerts" | jq '[.[] | select(.status.state == "suppressed")] | length')
    [ "$total" = "$want" ] && [ "$suppressed" = 1 ] && break
    sleep 0.2
  done
  if [ "$total" != "$want" ] || [ "$suppressed" != 1 ]; then
    log "alertmanager: $total alerts ($suppressed suppressed), expected $want (1 suppressed)"; return 1
  fi
  echo "$silence" >"$state/silence-id"
}

start() {
  mkdir -p "$state"
  stop
  for port in $prom_port $am_port; do
    if port_taken "$port"; then log "127.0.0.1:$port is taken by something this script did not start"; exit 1; fi
  done
  install
  # The seed epoch: a multiple of 5 minutes, so every segment boundary and
  # every query window the tests use falls on a sample.
  local epoch=$(( $(date +%s) / 300 * 300 ))
  # On any failure (set -e exits from inside the functions too), stop what
  # this run started.
  trap 'stop' EXIT
  start_prometheus "$epoch"
  start_alertmanager "$epoch"
  trap - EXIT
  echo "export CRE_COCKPIT_PROMETHEUS=http://127.0.0.1:$prom_port"
  echo "export CRE_COCKPIT_PROMETHEUS_SEED_EPOCH=$epoch"
  echo "export CRE_COCKPIT_ALERTMANAGER=http://127.0.0.1:$am_port"
  echo "export CRE_COCKPIT_ALERTMANAGER_SILENCE_ID=$(cat "$state/silence-id")"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
