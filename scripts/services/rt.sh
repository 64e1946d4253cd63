#!/usr/bin/env bash
# A real Request Tracker 5 (Debian's request-tracker5 + SQLite + Starlet) on
# 127.0.0.1:29380 for the RT adapter's integration tests.
#   start: apt-get install what is missing, create a fresh SQLite instance under
#          target/services/rt (its own site config; /etc/request-tracker5 is not
#          used), mint an API token for a test user, start rt-server, seed tickets
#          through REST2, print `export CRE_COCKPIT_RT_*=…`
#   stop:  stop the rt-server this script started (by its pid file) and nothing else
#   resume: start the stopped rt-server again on the same database and token
#          (tests that take RT down mid-write use stop + resume)
# Facts and quirks: ../shared/reference/real-backends.md §5, apis.md §2.9.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state="$root/target/services/rt"
port=29380
base="http://127.0.0.1:$port"
rest="$base/REST/2.0"
rt_server=/usr/share/request-tracker5/libexec/rt-server
packages=(request-tracker5 rt5-db-sqlite rt5-standalone msmtp-mta curl jq)

log() { echo "rt: $*" >&2; }

# The pid is ours only if it is still an rt-server (pids get reused).
our_pid() {
    local pid
    pid=$(cat "$state/rt-server.pid" 2>/dev/null) || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "rt-server" || return 1
    # A zombie waiting for its parent to reap it is already stopped.
    [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] || return 1
    echo "$pid"
}

# Starlet's workers are children of the master; SIGTERM to the master stops
# them too. Any worker still alive afterwards is stopped by its own pid.
stop() {
    local pid workers=() w
    if pid=$(our_pid); then
        for w in /proc/[0-9]*; do
            [ "$(awk '/^PPid:/ {print $2}' "$w/status" 2>/dev/null)" = "$pid" ] && workers+=("${w#/proc/}")
        done
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do our_pid >/dev/null || break; sleep 0.2; done
        if our_pid >/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        for w in "${workers[@]}"; do
            if tr "\0" " " 2>/dev/null <"/proc/$w/cmdline" | grep -q "rt-server"; then
                kill -KILL "$w" 2>/dev/null || true
            fi
        done
    fi
    rm -f "$state/rt-server.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install() {
    local missing=() p created_policy=
    for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} with apt-get (takes a minute the first time)"
    # Answer the package's questions up front. The system-wide instance the
    # package creates is not used; its root password is random and discarded.
    debconf-set-selections <<EOF
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/rtname string cockpit.test
request-tracker5 request-tracker5/organization string cockpit.test
request-tracker5 request-tracker5/correspondaddress string rt@cockpit.test
request-tracker5 request-tracker5/commentaddress string rt-comment@cockpit.test
request-tracker5 request-tracker5/webbaseurl string $base
request-tracker5 request-tracker5/initial-root-password password $(head -c 18 /dev/urandom | base64 | tr -d '/+=')
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
rt5-db-sqlite rt5-db-sqlite/available boolean true
EOF
    # Keep maintainer scripts from starting daemons.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    # Package lists go stale (a 404 on a superseded .deb): refresh them first.
    apt-get update -qq -o DPkg::Lock::Timeout=600 >&2
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >&2 || rc=$?
    [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

# A self-contained instance: its own site config, SQLite file and Mason dirs.
write_config() {
    mkdir -p "$state/siteconfig.d" "$state/mason_data" "$state/session_data"
    cat >"$state/RT_SiteConfig.pm" <<EOF
my \$dir = '$state';
Set(\$rtname, 'cockpit.test');
Set(\$Organization, 'cockpit.test');
Set(\$Timezone, 'UTC');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$base');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, "\$dir/rt.db");
Set(\$DatabaseUser, '');
Set(\$DatabasePassword, '');
Set(\$CorrespondAddress, 'rt@cockpit.test');
Set(\$CommentAddress, 'rt-comment@cockpit.test');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
Set(\$LogToSTDERR, 'warning');
# Test only: RT's default cost 12 adds ~220 ms of bcrypt to every request.
Set(\$BcryptCost, 4);
Set(\$MasonDataDir, "\$dir/mason_data");
Set(\$MasonSessionDir, "\$dir/session_data");
# Never send mail: append it to a file.
Set(\$MailCommand, sub { my \$e = shift;
    open(my \$fh, '>>', "\$dir/outgoing-mail.txt") or return 0;
    print \$fh "From rt\\@localhost\\n", \$e->stringify, "\\n"; close \$fh; 1 });
1;
EOF
    # The queue the seed uses, and a ticket custom field naming the customer,
    # applied to every queue (Queue => 0) so tests can make their own queues.
    cat >"$state/seed-initialdata.pl" <<'EOF'
@Queues = ({ Name => 'Customer Support', CorrespondAddress => 'support@cockpit.test',
             CommentAddress => 'support-comment@cockpit.test' });
@CustomFields = (
  { Name => 'Customer', Type => 'Freeform', MaxValues => 1, LookupType => 'RT::Queue-RT::Ticket', Queue => 0 },
);
1;
EOF
}

# A privileged test user with rights on every queue (granted on RT->System so
# the tests may create queues of their own), and an API token for it. The
# token is printed once by RT::AuthToken->Create; keep the last line only.
mint_token() {
    perl - cockpit "$(cat "$state/user-password")" 2>"$state/token.err" <<'PERL' | tail -n1
use strict; use warnings;
use lib '/usr/local/share/request-tracker5/lib', '/usr/share/request-tracker5/lib';
use RT; RT::LoadConfig(); RT::Init();
my ($name, $pass) = @ARGV;
my $u = RT::User->new(RT->SystemUser); $u->Load($name);
unless ($u->id) {
    my ($ok, $m) = $u->Create(Name => $name, EmailAddress => "$name\@cockpit.test",
        RealName => 'Cockpit Tests', Password => $pass, Privileged => 1);
    die "$m\n" unless $ok;
}
for my $right (qw(SeeQueue ShowTicket CreateTicket ModifyTicket CommentOnTicket ReplyToTicket
                  ShowTicketComments OwnTicket TakeTicket StealTicket AdminQueue SeeCustomField
                  ModifyCustomField ManageAuthTokens)) {
    my ($ok, $m) = $u->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
    die "$right: $m\n" unless $ok;
}
my ($id, $m, $auth) = RT::AuthToken->new(RT->SystemUser)->Create(Owner => $u->id, Description => 'cre-cockpit tests');
die "$m\n" unless $id;
print "$auth\n";
PERL
}

wait_ready() {
    local pid=$1 token=$2
    for _ in $(seq 1 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "rt-server exited while starting:"; cat "$state/rt-server.log" >&2; return 1
        fi
        if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" "$rest/rt")" = 200 ]; then
            return 0
        fi
        sleep 0.2
    done
    log "rt-server did not answer within 120 s"; cat "$state/rt-server.log" >&2; return 1
}

# POST a JSON body, fail loudly on anything but 201; print the answer.
post() {
    local path=$1 body=$2 out code
    out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: token $TOKEN" \
        -H 'Content-Type: application/json' "$rest/$path" --data-binary "$body")
    code=${out##*$'\n'}
    if [ "$code" != 201 ]; then log "POST $path: HTTP $code ${out%$'\n'*}"; return 1; fi
    printf '%s\n' "${out%$'\n'*}"
}

# Create a record and print its id.
create() { post "$1" "$2" | jq -r .id; }

update() {
    local path=$1 body=$2
    curl -sf -X PUT -H "Authorization: token $TOKEN" -H 'Content-Type: application/json' \
        "$rest/$path" --data-binary "$body" >/dev/null
}

# The queue a CRE would watch: open, new, stalled and resolved tickets for four
# customers, one comment and one reply. `snapshot --json` against this server
# shows the active ones.
seed() {
    local t
    ticket() { create ticket "$(jq -nc --arg q 'Customer Support' --arg r "$1" --arg s "$2" \
        --argjson p "$3" --arg c "$4" \
        '{Queue:$q, Requestor:$r, Subject:$s, Priority:$p, Content:"Reported through the portal.",
          ContentType:"text/plain", CustomFields:{Customer:$c}}')"; }
    t=$(ticket alice@acme.example "Checkout returns 500 for EU customers" 80 acme)
    update "ticket/$t" '{"Status":"open","Owner":"cockpit"}'
    ticket bob@globex.example "API error rate spike since 03:00 UTC" 90 globex >/dev/null
    t=$(ticket bob@globex.example "Invoice shows wrong currency" 20 globex)
    post "ticket/$t/comment" '{"Content":"Billing confirmed the rounding bug.","ContentType":"text/plain"}' >/dev/null
    post "ticket/$t/correspond" '{"Content":"We are checking the invoice.","ContentType":"text/plain"}' >/dev/null
    t=$(ticket carol@initech.example "SSO login loop" 30 initech)
    update "ticket/$t" '{"Status":"stalled"}'
    ticket dave@umbrella.example "Slow report exports" 50 umbrella >/dev/null
    t=$(ticket erin@acme.example "Rate limit questions" 10 acme)
    update "ticket/$t" '{"Status":"resolved"}'
}

start() {
    install
    mkdir -p "$state"
    stop
    if port_busy; then log "127.0.0.1:$port is taken by a process this script did not start"; exit 1; fi
    rm -rf "${state:?}"/*
    write_config
    export RT_SITE_CONFIG="$state/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$state/siteconfig.d"
    # Passwords are made up per run and stay in the (git-ignored) state dir.
    (umask 077
        head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$state/root-password"
        head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$state/user-password")
    trap 'stop' ERR
    log "creating a fresh SQLite instance"
    /usr/sbin/rt-setup-database-5 --action init --skip-create \
        --root-password-file "$state/root-password" >"$state/setup.log" 2>&1 ||
        { cat "$state/setup.log" >&2; exit 1; }
    /usr/sbin/rt-setup-database-5 --action insert --datafile "$state/seed-initialdata.pl" \
        >>"$state/setup.log" 2>&1 || { cat "$state/setup.log" >&2; exit 1; }
    TOKEN=$(mint_token) || { cat "$state/token.err" >&2; exit 1; }
    [ -n "$TOKEN" ] || { log "no token minted"; cat "$state/token.err" >&2; exit 1; }
    (umask 077; printf '%s\n' "$TOKEN" >"$state/token")
    nohup "$rt_server" --host 127.0.0.1 --port "$port" --max-workers 2 \
        >"$state/rt-server.log" 2>&1 </dev/null &
    echo $! >"$state/rt-server.pid"
    wait_ready "$!" "$TOKEN"
    log "seeding tickets through REST2"
    seed
    trap - ERR
    echo "export CRE_COCKPIT_RT_URL=$base"
    echo "export CRE_COCKPIT_RT_TOKEN=$TOKEN"
    echo "export CRE_COCKPIT_RT_LOG=$state/rt-server.log"
}

resume() {
    our_pid >/dev/null && return 0
    [ -s "$state/token" ] || { log "nothing to resume: run start first"; exit 1; }
    export RT_SITE_CONFIG="$state/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$state/siteconfig.d"
    nohup "$rt_server" --host 127.0.0.1 --port "$port" --max-workers 2 \
        >>"$state/rt-server.log" 2>&1 </dev/null &
    echo $! >"$state/rt-server.pid"
    wait_ready "$!" "$(cat "$state/token")"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    resume) resume ;;
    *) echo "usage: $0 start|stop|resume" >&2; exit 2 ;;
esac
