#!/usr/bin/env bash
# A throwaway PostgreSQL cluster (Debian's postgresql package) on
# 127.0.0.1:29432 for the team-mode store's tests.
#   start: apt-get install what is missing, initdb a fresh cluster under
#          target/services/postgres (trust auth, loopback only, its socket in
#          the state dir so no system cluster is touched), start it, create the
#          `cockpit` role and database, print `export CRE_COCKPIT_POSTGRES=…`
#          and the test CA's certificate (TLS is on: a throwaway CA signs
#          the server's certificate for 127.0.0.1; a second CA signs nothing,
#          for the test that a server it does not vouch for is refused)
#   stop:  stop the server this script started (by its data dir) and nothing else
# Each test makes its own schema in that database, so tests run in parallel.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state="$root/target/services/postgres"
data="$state/data"
port=29432
# The password role's: a throwaway cluster's, not a secret.
password=cockpit-test-password
packages=(postgresql openssl)

log() { echo "postgres.sh: $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install() {
    local missing=() p made_policy=
    for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    # Keep Debian from creating and starting its own cluster on :5432 during
    # the install; remove the policy only if we created it.
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

# The newest installed server's binaries (Debian keeps them off PATH).
bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; return 1; }
    echo "$d"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` system user the package creates.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# A test CA, the server's certificate for 127.0.0.1 signed by it (its key
# readable by the server's user only, as PostgreSQL insists), and a second
# CA that signs nothing.
certificates() {
    local tls="$state/tls" req=(openssl req -nodes -newkey rsa:2048 -days 2)
    mkdir -p "$tls"
    quiet "${req[@]}" -x509 -subj "/CN=cre-cockpit test CA" -keyout "$tls/ca.key" -out "$tls/ca.pem"
    quiet "${req[@]}" -x509 -subj "/CN=another CA" -keyout "$tls/other-ca.key" -out "$tls/other-ca.pem"
    quiet "${req[@]}" -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
    quiet openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.pem"
    chmod 600 "$tls/server.key"
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$tls"; fi
}

# Run a command whose progress output is noise; show it only if it fails.
quiet() {
    local out
    out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }
}

stop() {
    [ -e "$data/postmaster.pid" ] || return 0
    local bin
    bin=$(bindir) || return 0
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >&2 || true
}

start() {
    stop
    if port_taken; then log "127.0.0.1:$port is taken by something this script did not start"; exit 1; fi
    install
    local bin
    bin=$(bindir)
    rm -rf "$state"
    mkdir -p "$state"
    [ "$(id -u)" = 0 ] && chown postgres: "$state"
    trap 'stop' EXIT
    as_owner "$bin/initdb" -D "$data" -U cockpit --auth=trust -E UTF8 --locale=C.UTF-8 >&2
    certificates
    # One role that must give its password (SCRAM), for the tests of where
    # the team store's password comes from; the first matching line wins.
    sed -i '1i host all cockpit_pw 127.0.0.1/32 scram-sha-256' "$data/pg_hba.conf"
    # Loopback only, the socket in the state dir; fsync off: the cluster is
    # thrown away after the tests, and commits stay transactional.
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$state'
fsync = off
max_connections = 200
ssl = on
ssl_cert_file = '$state/tls/server.pem'
ssl_key_file = '$state/tls/server.key'
EOF
    as_owner "$bin/pg_ctl" -D "$data" -l "$state/postgres.log" -w -t 60 start >&2
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U cockpit cockpit >&2
    as_owner "$bin/psql" -q -h 127.0.0.1 -p "$port" -U cockpit cockpit >&2 <<EOF
CREATE ROLE cockpit_pw LOGIN PASSWORD '$password';
GRANT CREATE ON DATABASE cockpit TO cockpit_pw;
EOF
    trap - EXIT
    echo "export CRE_COCKPIT_POSTGRES=postgres://cockpit@127.0.0.1:$port/cockpit"
    echo "export CRE_COCKPIT_POSTGRES_CA=$state/tls/ca.pem"
    echo "export CRE_COCKPIT_POSTGRES_OTHER_CA=$state/tls/other-ca.pem"
    echo "export CRE_COCKPIT_POSTGRES_PW_URL=postgres://cockpit_pw@127.0.0.1:$port/cockpit"
    echo "export CRE_COCKPIT_POSTGRES_PW=$password"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
