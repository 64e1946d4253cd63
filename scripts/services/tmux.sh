#!/usr/bin/env bash
# tmux, for tests that drive the real binary in a pseudo-terminal and read
# every byte it writes (tests/terminal_safety.rs). Nothing runs in the
# background: each test starts its own tmux server on a private socket.
#   start: apt-get install tmux if it is missing; print its path
#   stop:  nothing to stop
set -euo pipefail

start() {
  if ! command -v tmux >/dev/null 2>&1; then
    echo "tmux: installing Debian's tmux" >&2
    local apt=(-o DPkg::Lock::Timeout=300 -qq)
    if ! DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y --no-install-recommends tmux >&2; then
      apt-get "${apt[@]}" update >&2
      DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y --no-install-recommends tmux >&2
    fi
  fi
  echo "export CRE_COCKPIT_TMUX=$(command -v tmux)"
}

case "${1:-}" in
  start) start ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
