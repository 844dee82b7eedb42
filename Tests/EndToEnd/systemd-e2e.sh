#!/usr/bin/env bash
# tenantsyncd under a real systemd, end to end. Run as root:
#
#   bash Tests/EndToEnd/systemd-e2e.sh
#
# Boots /usr/lib/systemd/systemd as PID 1 of a new PID + mount namespace and
# drives it with `nsenter -t PID1 -m -p systemctl|journalctl ...`. Inside the
# namespace /run, /tmp and /var/tmp are private tmpfs (without the private /tmp,
# systemd's boot-time clean-up would empty the machine's /tmp) and /etc, /usr
# and /var are overlays whose writable layer lives on that private /run: the
# `make install`, the sysusers entry, the units, the journal and the state
# directory all vanish with the namespace; the machine's /etc, /usr and /var are
# never written. `--unit=basic.target` keeps the machine's other services down.
#
# Steps 1-6 run the daemon on SQLite; steps 7-14 (Tests/EndToEnd/systemd-e2e-postgresql.sh, sourced) move the
# same unit to a PostgreSQL 15 cluster of Debian's tooling started by the namespace's systemd; step 15 stops,
# uninstalls and shuts the namespace down.
#
# Prints one line per step (PASS/FAIL/NOT YET COVERED) and ends with
# "N passed, M failed" alone on a line; exits non-zero on any failure.
#
# Environment: CONFIGURATION=debug|release (which `swift build` to install,
# default debug: the one the test command already built).
# No pipefail: `journalctl ... | grep -q` would fail on SIGPIPE when grep stops early.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONFIGURATION=${CONFIGURATION:-debug}
BUILDDIR=$ROOT/.build/$CONFIGURATION
PROGRAMS=(tenantsyncd tenantsyncctl tenantsync-emulator)
MESSAGE_ID_PROTECTED=8639c5e1afbc45b08231bd43609a800b
MESSAGE_ID_TOKEN_INVALID=a1dff5adfc7d4a57a7124945c29025f3
TENANT=contoso.onmicrosoft.com
SOCKET=/run/tenantsync/control
STARTED_AT=$SECONDS

passed=0 failed=0 not_covered=0
pass() { echo "PASS step $1: $2"; passed=$((passed + 1)); }
fail() { echo "FAIL step $1: $2"; failed=$((failed + 1)); }
not_yet() { echo "NOT YET COVERED step $1: $2"; not_covered=$((not_covered + 1)); }
note() { echo "    $*"; }
summary() {
    [ "$not_covered" -eq 0 ] || echo "$not_covered step(s) not yet covered (they need provisioning, issue 10)"
    echo "e2e took $((SECONDS - STARTED_AT))s"
    echo "$passed passed, $failed failed"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL step 0: the systemd end-to-end test needs root (it boots systemd in a namespace)"
    summary
    exit 1
fi
for tool in unshare nsenter curl sqlite3 make setpriv timeout ss; do
    command -v "$tool" >/dev/null || { echo "FAIL step 0: $tool is missing"; summary; exit 1; }
done

# ---------------------------------------------------------------- namespace ---
UNSHARE_PID=
PID1=
LOGDIR=$(mktemp -d /tmp/tenantsync-e2e.XXXXXX)
# The namespace shares the machine's cgroup file system; its systemd leaves empty
# cgroups (init.scope, system.slice, *.mount) behind on exit. Remember what was
# there, to remove afterwards only what this run added.
list_cgroups() { find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d \( -name '*.scope' -o -name '*.slice' -o -name '*.mount' \) 2>/dev/null | sort; }
cgroups_before=$(list_cgroups)

# Runs a command inside the namespace (its mounts and its PID namespace).
ns() { nsenter -t "$PID1" -m -p -- env SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"; }
sctl() { ns timeout 30 systemctl --no-pager "$@"; }
jctl() { ns timeout 30 journalctl --no-pager "$@"; }
prop() { sctl show -p "$2" --value "$1"; }

cleanup() {
    local status=$?
    if [ -n "$PID1" ] && kill -0 "$PID1" 2>/dev/null; then
        # Ask systemd to shut the namespace down; kill PID 1 (and with it the
        # whole PID namespace) if it does not within 20 s.
        ns timeout 10 systemctl --no-block exit >/dev/null 2>&1 || true
        for _ in $(seq 1 40); do kill -0 "$PID1" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$PID1" 2>/dev/null && kill -KILL "$PID1" 2>/dev/null
    fi
    if [ -n "$UNSHARE_PID" ]; then
        for _ in $(seq 1 20); do kill -0 "$UNSHARE_PID" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$UNSHARE_PID" 2>/dev/null && kill -KILL "$UNSHARE_PID" 2>/dev/null
        wait "$UNSHARE_PID" 2>/dev/null
    fi
    # Remove only cgroups the namespace created, and only empty ones (rmdir refuses others).
    local dir
    for dir in $(comm -13 <(echo "$cgroups_before") <(list_cgroups)); do
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    rm -rf "$LOGDIR"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; failed=$((failed + 1)); summary; exit 1' INT TERM

# Waits up to $1 seconds for the command to succeed.
wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.25
    done
}

# ------------------------------------------------------------------- build ---
missing=()
for program in "${PROGRAMS[@]}"; do [ -x "$BUILDDIR/$program" ] || missing+=(--product "$program"); done
if [ ${#missing[@]} -gt 0 ]; then
    (cd "$ROOT" && swift build -c "$CONFIGURATION" "${missing[@]}") >"$LOGDIR/build.log" 2>&1 \
        || { echo "FAIL step 0: swift build failed (tail of the log follows)"; tail -20 "$LOGDIR/build.log"; summary; exit 1; }
fi

# ------------------------------------------------------------------- boot ----
# Everything the namespace writes lands on its private /run (tmpfs).
# A checkout below /tmp or /var/tmp (a CI clone, say) would vanish under the private
# tmpfs: it is bound aside first and back to its own path afterwards.
E2E_ROOT="$ROOT" unshare --pid --fork --mount --mount-proc --propagation private sh -c '
    set -e
    mount --make-rprivate /
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir -p /run/e2e-checkout
    mount --bind "$E2E_ROOT" /run/e2e-checkout
    for dir in etc usr var; do
        mkdir -p /run/e2e-overlay/$dir/upper /run/e2e-overlay/$dir/work
        mount -t overlay overlay -o lowerdir=/$dir,upperdir=/run/e2e-overlay/$dir/upper,workdir=/run/e2e-overlay/$dir/work /$dir
    done
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs -o mode=1777 tmpfs /var/tmp
    if [ ! -d "$E2E_ROOT" ]; then
        mkdir -p "$E2E_ROOT"
        mount --bind /run/e2e-checkout "$E2E_ROOT"
    fi
    # systemd detects a container here and leaves propagation alone, but its
    # credential set-up (LoadCredential=) moves a mount made in a child namespace
    # and needs shared propagation. After the rprivate above these are new peer
    # groups of this namespace only: nothing propagates to the machine.
    mount --make-rshared /
    exec /usr/lib/systemd/systemd --system --unit=basic.target
' >"$LOGDIR/systemd.log" 2>&1 &
UNSHARE_PID=$!

for _ in $(seq 1 40); do
    PID1=$(ps -o pid= --ppid "$UNSHARE_PID" | tr -d ' ' | head -n1)
    [ -n "$PID1" ] && [ "$(cat /proc/"$PID1"/comm 2>/dev/null)" = systemd ] && break
    PID1=
    sleep 0.25
done
if [ -z "$PID1" ]; then
    echo "FAIL step 0: systemd did not start in the namespace"; cat "$LOGDIR/systemd.log"; summary; exit 1
fi
booted() { case "$(ns systemctl is-system-running 2>/dev/null)" in running|degraded) return 0;; *) return 1;; esac; }
if ! wait_for 40 booted; then
    echo "FAIL step 0: systemd in the namespace did not finish booting: $(ns systemctl is-system-running 2>&1)"
    summary; exit 1
fi
note "systemd $(ns systemctl --version | head -n1 | cut -d' ' -f2) is PID 1 of the namespace (host pid $PID1), state $(ns systemctl is-system-running)"

# ---------------------------------------------------------------- install ----
# The real `make install` (PREFIX=/usr/local, empty DESTDIR: sysusers, catalog
# and daemon-reload run) into the namespace's overlays.
if ns make -C "$ROOT" --no-print-directory install CONFIGURATION="$CONFIGURATION" >"$LOGDIR/install.log" 2>&1; then
    pass 0 "make install into the namespace (binaries, units, sysusers, catalog, default config)"
else
    fail 0 "make install failed:"; tail -15 "$LOGDIR/install.log"; summary; exit 1
fi
if verify=$(ns systemd-analyze verify /usr/local/lib/systemd/system/tenantsyncd.service /usr/local/lib/systemd/system/tenantsyncd.socket 2>&1) && [ -z "$verify" ]; then
    pass 0 "systemd-analyze verify is clean on both installed units"
else
    fail 0 "systemd-analyze verify complained: $verify"
fi
exposure=$(ns systemd-analyze security tenantsyncd.service 2>/dev/null | sed -n 's/.*Overall exposure level for tenantsyncd.service: \([0-9.]*\).*/\1/p')
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 1.5) }'; then
    pass 0 "systemd-analyze security rates the installed service $exposure (<= 1.5)"
else
    fail 0 "systemd-analyze security exposure is '${exposure:-unknown}', above 1.5"
fi
catalog=$(ns journalctl --list-catalog 2>/dev/null)
if ns getent group tenantsync >/dev/null && grep -q "^$MESSAGE_ID_PROTECTED " <<<"$catalog"; then
    pass 0 "sysusers created user/group tenantsync; journald knows the tenantsync catalog"
else
    fail 0 "tenantsync group or catalog entries missing after make install"
fi

# A staged install (DESTDIR, PREFIX=/usr) writes only below DESTDIR and rewrites the unit paths.
STAGE=$LOGDIR/stage
if make -C "$ROOT" --no-print-directory install DESTDIR="$STAGE" PREFIX=/usr CONFIGURATION="$CONFIGURATION" >"$LOGDIR/stage.log" 2>&1 \
    && [ -x "$STAGE/usr/bin/tenantsyncd" ] && [ -f "$STAGE/usr/lib/sysusers.d/tenantsync.conf" ] \
    && [ -f "$STAGE/usr/lib/systemd/catalog/tenantsync.catalog" ] && [ -f "$STAGE/etc/tenantsync/tenantsyncd.toml" ] \
    && grep -q '^ExecStart=/usr/bin/tenantsyncd ' "$STAGE/usr/lib/systemd/system/tenantsyncd.service" \
    && grep -q '^ExecReload=+/usr/bin/tenantsyncctl ' "$STAGE/usr/lib/systemd/system/tenantsyncd.service" \
    && ! grep -qE '^(journalctl|systemd-sysusers|if \[ -d /run/systemd)' "$LOGDIR/stage.log"; then
    pass 0 "make install DESTDIR=... PREFIX=/usr stages everything below DESTDIR with /usr/bin paths in the units, runs nothing"
else
    fail 0 "staged make install (DESTDIR, PREFIX=/usr) is incomplete"; tail -5 "$LOGDIR/stage.log"
fi

# The emulator, as a transient unit of the namespace's systemd.
sctl stop e2e-emulator.service >/dev/null 2>&1
ns systemd-run --quiet --unit=e2e-emulator --property=Type=exec /usr/local/bin/tenantsync-emulator --tenants 1 --users 25 --groups 3 >/dev/null
emulator_url() { jctl -u e2e-emulator -o cat | grep -m1 -E '^http://127\.0\.0\.1:[0-9]+$'; }
if ! wait_for 30 emulator_url; then
    fail 0 "the emulator did not print its URL"; jctl -u e2e-emulator -o cat | tail -5; summary; exit 1
fi
EMULATOR=$(emulator_url)
note "emulator at $EMULATOR"

# Secrets as systemd credentials in the credential store: the sealing key and
# the multi-tenant app's secret. smtp-password is left out on purpose (optional).
ns sh -c 'umask 077; mkdir -p /etc/credstore
          head -c 32 /dev/urandom | base64 > /etc/credstore/tenantsync.key
          printf %s emulator-client-secret > /etc/credstore/microsoft-client-secret'
# $1: [tokens] refresh_margin. The PostgreSQL steps (systemd-e2e-postgresql.sh) set E2E_NODE_NAME and
# E2E_DATABASE_SECTION.
E2E_NODE_NAME=
E2E_DATABASE_SECTION=
write_config() {
    ns sh -c "cat > /etc/tenantsync/tenantsyncd.toml" <<EOF
# Written by Tests/EndToEnd/systemd-e2e.sh
[daemon]
shutdown_timeout = "10s"
testing_fault_switches = true   # test-only: SIGUSR1 hangs the watchdog health check
${E2E_NODE_NAME:+node_name = \"$E2E_NODE_NAME\"}

[microsoft]
authority = "$EMULATOR"
graph = "$EMULATOR"
outlook = "$EMULATOR/outlook"

[tokens]
refresh_margin = "$1"

$E2E_DATABASE_SECTION
EOF
}
write_config 30s
# Test-only drop-in: a short watchdog so that step 5 fits the time budget.
ns sh -c 'mkdir -p /run/systemd/system/tenantsyncd.service.d && printf "[Service]\nWatchdogSec=4s\n" > /run/systemd/system/tenantsyncd.service.d/e2e-watchdog.conf'
sctl daemon-reload

ctl() { ns timeout 20 /usr/local/bin/tenantsyncctl --socket "$SOCKET" "$@"; }

# ----------------------------------------------------------------- step 1 ----
step1() {
    sctl start tenantsyncd.socket || { fail 1 "systemctl start tenantsyncd.socket failed"; return; }
    local before; before=$(prop tenantsyncd.service ActiveState)
    if [ "$before" != inactive ]; then fail 1 "tenantsyncd.service is '$before' before any connection"; return; fi
    local mode; mode=$(ns stat -c '%a %U:%G' "$SOCKET")
    [ "$mode" = "660 root:tenantsync" ] || { fail 1 "the socket is '$mode', want '660 root:tenantsync'"; return; }
    # Manager debug logging shows READY=1 arriving before the start -> running transition.
    sctl log-level debug
    local cursor; cursor=$(jctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
    local output
    if ! output=$(ctl status 2>&1); then
        sctl log-level info
        fail 1 "tenantsyncctl status through the socket failed: $output"; return
    fi
    sctl log-level info
    note "tenantsyncctl status: $(echo "$output" | head -n3 | tr '\n' ' ')"
    local state; state="$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState)"
    [ "$state" = active/running ] || { fail 1 "after the first call the service is $state"; return; }
    local log; log=$(jctl --after-cursor "$cursor" -u tenantsyncd.service -o cat)
    local ready_line running_line
    ready_line=$(echo "$log" | grep -n 'Got notification message from PID.*READY=1' | head -n1 | cut -d: -f1)
    running_line=$(echo "$log" | grep -n 'Changed start -> running' | head -n1 | cut -d: -f1)
    if [ -z "$ready_line" ] || [ -z "$running_line" ] || [ "$ready_line" -gt "$running_line" ]; then
        fail 1 "no READY=1 before 'start -> running' in the manager's log"; echo "$log" | grep -E 'notification|Changed' | head; return
    fi
    local status_text; status_text=$(prop tenantsyncd.service StatusText)
    [ -n "$status_text" ] || { fail 1 "StatusText is empty"; return; }
    local triggered_by; triggered_by=$(prop tenantsyncd.service TriggeredBy)
    # Socket permissions: a member of the tenantsync group may call, others may not.
    ns sh -c 'getent passwd e2e-operator >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin -G tenantsync e2e-operator
              getent passwd e2e-outsider >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin e2e-outsider'
    if ! ns setpriv --reuid=e2e-operator --regid=e2e-operator --init-groups timeout 20 /usr/local/bin/tenantsyncctl --socket "$SOCKET" status >/dev/null 2>&1; then
        fail 1 "a member of the tenantsync group cannot use the socket"; return
    fi
    if ns setpriv --reuid=e2e-outsider --regid=e2e-outsider --init-groups timeout 20 /usr/local/bin/tenantsyncctl --socket "$SOCKET" status >/dev/null 2>&1; then
        fail 1 "a user outside the tenantsync group could use the socket"; return
    fi
    # LoadCredential: the key came from /etc/credstore, so none was created in the state directory.
    if ns test -e /var/lib/tenantsync/tenantsync.key || ! ns test -s /var/lib/tenantsync/tenantsync.sqlite; then
        fail 1 "state directory: expected tenantsync.sqlite and no tenantsync.key (the key is a credential)"; return
    fi
    pass 1 "socket activation by tenantsyncctl status (TriggeredBy=$triggered_by); active (running) after READY=1; StatusText=\"$status_text\"; group member allowed, outsider refused; key from LoadCredential"
}
step1

# ----------------------------------------------------------------- step 2 ----
# Provisioning lands with issue 10; until the daemon implements it this step
# reports NOT YET COVERED instead of passing.
PROVISIONED=no
step2() {
    # Short-lived access tokens, so that step 3 sees a refresh within its time bound.
    curl -fsS -X PATCH -H 'Content-Type: application/json' -d '{"accessTokenLifetimeSeconds": 60, "randomAccessTokenLifetime": false}' \
        "$EMULATOR/_emulator/tenants/$TENANT/settings" >/dev/null || { fail 2 "the emulator refused the token-lifetime setting"; return; }
    ctl provision sharepoint-online --tenant "$TENANT" --device-code --confirm-app-principal --scope all </dev/null >"$LOGDIR/provision.out" 2>&1 &
    local provision=$!
    # The administrator approves the device code the daemon asked for (waits up to 20 s for it).
    curl -sS -X POST "$EMULATOR/_emulator/tenants/$TENANT/device-codes/approve-next?wait=20" >"$LOGDIR/approve.out" 2>&1
    wait "$provision"; local status=$?
    if grep -qE 'MethodNotImplemented|MethodNotFound' "$LOGDIR/provision.out"; then
        not_yet 2 "provisioning through the socket: the daemon does not implement it yet ($(grep -m1 -E 'Method' "$LOGDIR/provision.out"))"
        return
    fi
    if [ "$status" -ne 0 ]; then
        fail 2 "tenantsyncctl provision sharepoint-online exited $status: $(tail -n3 "$LOGDIR/provision.out" | tr '\n' ' ')"; return
    fi
    has_protected() { jctl -u tenantsyncd.service MESSAGE_ID=$MESSAGE_ID_PROTECTED -o cat | grep -q 'protected\.'; }
    wait_for 20 has_protected || { fail 2 "no 'protected.' entry with MESSAGE_ID=$MESSAGE_ID_PROTECTED in the journal"; return; }
    local explained; explained=$(jctl -x -u tenantsyncd.service MESSAGE_ID=$MESSAGE_ID_PROTECTED | grep -m1 'Subject:')
    [ -n "$explained" ] || { fail 2 "journalctl -x shows no catalog explanation for the protected event"; return; }
    PROVISIONED=yes
    pass 2 "provisioned SharePoint Online through the socket; journal: '$(jctl -u tenantsyncd.service MESSAGE_ID=$MESSAGE_ID_PROTECTED -o cat | tail -n1)'; journalctl -x: '$(echo "$explained" | sed 's/^ *//')'"
}
step2

# ----------------------------------------------------------------- step 3 ----
step3() {
    if [ "$PROVISIONED" != yes ]; then
        not_yet 3 "revoked refresh token -> token-invalid event and StatusText (needs a provisioned account, step 2)"
        return
    fi
    curl -fsS -X POST -H 'Content-Type: application/json' -d '{"code": 70008}' \
        "$EMULATOR/_emulator/tenants/$TENANT/revoke-refresh-tokens" >/dev/null || { fail 3 "the emulator refused to revoke refresh tokens"; return; }
    # Access tokens live 60 s (step 2) and refresh_margin is 30 s: the next refresh meets the revocation.
    has_invalid() { jctl -u tenantsyncd.service MESSAGE_ID=$MESSAGE_ID_TOKEN_INVALID -o cat | grep -q .; }
    if ! wait_for 45 has_invalid; then
        fail 3 "no token-invalid event (MESSAGE_ID=$MESSAGE_ID_TOKEN_INVALID) within 45 s of revoking the refresh token"; return
    fi
    # The daemon recomputes STATUS= every 15 s: give it one period and a margin.
    names_invalid() { prop tenantsyncd.service StatusText | grep -qiE 'invalid|degraded|sharepoint'; }
    wait_for 25 names_invalid
    local status_text; status_text=$(prop tenantsyncd.service StatusText)
    echo "$status_text" | grep -qiE 'invalid|degraded|sharepoint' || { fail 3 "StatusText does not name the invalid account: '$status_text'"; return; }
    pass 3 "refresh token revoked: '$(jctl -u tenantsyncd MESSAGE_ID=$MESSAGE_ID_TOKEN_INVALID -o cat | tail -n1)'; StatusText=\"$status_text\""
}
step3

# ----------------------------------------------------------------- step 4 ----
step4() {
    [ "$(prop tenantsyncd.service ActiveState)" = active ] || { fail 4 "the service is not running before the reload"; return; }
    local pid_before; pid_before=$(prop tenantsyncd.service MainPID)
    local cursor; cursor=$(jctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
    write_config 45s
    local output
    output=$(sctl reload tenantsyncd.service 2>&1) || { fail 4 "systemctl reload failed: $output"; jctl -u tenantsyncd -n 5 -o cat; return; }
    # ExecReload= (tenantsyncctl reload) returns once the daemon applied the file, so the entry is
    # already sent; journald may still be writing it.
    local reloaded
    check_reloaded() { jctl --after-cursor "$cursor" -u tenantsyncd.service -o json | grep 'Configuration reloaded' | grep -qE '"CONFIG_APPLIED" *: *"[^"]*tokens\.refresh_margin|config\.applied=[^ ]*tokens\.refresh_margin'; }
    if ! wait_for 5 check_reloaded; then
        fail 4 "no 'Configuration reloaded' with config.applied=tokens.refresh_margin in the journal"
        jctl --after-cursor "$cursor" -u tenantsyncd.service -o cat | tail -n5; return
    fi
    reloaded=$(jctl --after-cursor "$cursor" -u tenantsyncd.service -o json | grep -m1 'Configuration reloaded' | grep -oE '"CONFIG_APPLIED" *: *"[^"]*"|config\.applied=[^ ]*' | head -n1)
    local pid_after; pid_after=$(prop tenantsyncd.service MainPID)
    [ "$pid_before" = "$pid_after" ] || { fail 4 "the reload restarted the daemon (pid $pid_before -> $pid_after)"; return; }
    pass 4 "systemctl reload (ExecReload=tenantsyncctl reload) applied tokens.refresh_margin=45s in place (pid $pid_after): 'Configuration reloaded' $reloaded"
}
step4

# ----------------------------------------------------------------- step 5 ----
db_rows() {
    # Rows in every table; integrity_check must say ok. Read-only, beside the running daemon (WAL).
    echo -n "$(ns sqlite3 -readonly /var/lib/tenantsync/tenantsync.sqlite 'PRAGMA integrity_check;' 2>&1 | head -n1) "
    local tables; tables=$(ns sqlite3 -readonly /var/lib/tenantsync/tenantsync.sqlite "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name;")
    local query="" table
    for table in $tables; do query+="SELECT '$table', count(*) FROM \"$table\" UNION ALL "; done
    ns sqlite3 -readonly -separator = /var/lib/tenantsync/tenantsync.sqlite "${query% UNION ALL };" | tr '\n' ' '
}
step5() {
    [ "$(prop tenantsyncd.service ActiveState)" = active ] || { fail 5 "the service is not running before the hang"; return; }
    local before; before=$(db_rows)
    local restarts_before; restarts_before=$(prop tenantsyncd.service NRestarts)
    local pid_before; pid_before=$(prop tenantsyncd.service MainPID)
    local cursor; cursor=$(jctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
    sctl kill --kill-who=main --signal=SIGUSR1 tenantsyncd.service
    restarted() { [ "$(prop tenantsyncd.service NRestarts)" = $((restarts_before + 1)) ] && [ "$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState)" = active/running ]; }
    if ! wait_for 40 restarted; then
        fail 5 "no watchdog restart: NRestarts=$(prop tenantsyncd.service NRestarts), state $(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState)"
        jctl --after-cursor "$cursor" -o cat | tail -n 10; return
    fi
    local log; log=$(jctl --after-cursor "$cursor" -o cat)
    echo "$log" | grep -q 'Watchdog timeout' || { fail 5 "restarted, but not by the watchdog: $(echo "$log" | grep -m3 tenantsyncd)"; return; }
    local after; after=$(db_rows)
    local integrity=${after%% *}
    local pid_after; pid_after=$(prop tenantsyncd.service MainPID)
    [ "$integrity" = ok ] || { fail 5 "integrity_check after the restart: $after"; return; }
    # Every table keeps at least the rows it had.
    local pair name count was
    for pair in ${before#ok }; do
        name=${pair%%=*}; was=${pair#*=}
        count=$(echo "$after" | tr ' ' '\n' | sed -n "s/^$name=//p")
        [ "${count:-0}" -ge "$was" ] || { fail 5 "table $name lost rows: $was -> ${count:-0}"; return; }
    done
    if [ "$PROVISIONED" = yes ]; then
        echo "$after" | grep -qE 'service_accounts=[1-9]' || { fail 5 "the provisioned account is gone after the restart"; return; }
    fi
    ctl status >/dev/null 2>&1 || { fail 5 "the restarted daemon does not answer on the socket"; return; }
    pass 5 "SIGUSR1 fault switch hung the health check; '$(echo "$log" | grep -m1 'Watchdog timeout' | sed 's/^ *//')'; restarted pid $pid_before -> $pid_after, NRestarts=$(prop tenantsyncd.service NRestarts); integrity ok, rows kept (${after#ok }); socket answers"
}
step5

# ---------------------------------------------------------------- step 5b ----
# Without the socket unit the daemon binds the control socket itself.
step5b() {
    sctl stop tenantsyncd.socket tenantsyncd.service 2>/dev/null
    sctl mask --runtime tenantsyncd.socket >/dev/null 2>&1
    if ! sctl start tenantsyncd.service; then
        fail 5 "tenantsyncd.service does not start without tenantsyncd.socket"; jctl -u tenantsyncd -n 5 -o cat
    elif ! ctl status >/dev/null 2>&1; then
        fail 5 "without the socket unit the daemon does not answer on $SOCKET"
    else
        local mode; mode=$(ns stat -c '%a %G' "$SOCKET")
        local triggered; triggered=$(prop tenantsyncd.service TriggeredBy)
        if [ "$mode" = "660 tenantsync" ] && [ -z "$triggered" ]; then
            pass 5 "without tenantsyncd.socket (masked) the daemon binds $SOCKET itself ($mode) and answers"
        else
            fail 5 "self-bound socket is '$mode' (want '660 tenantsync'), TriggeredBy='$triggered'"
        fi
    fi
    # Back to the normal set-up: socket unit, service activated through it.
    sctl stop tenantsyncd.service 2>/dev/null
    sctl unmask --runtime tenantsyncd.socket >/dev/null 2>&1
    sctl start tenantsyncd.socket || fail 5 "tenantsyncd.socket does not start again after the self-bound run"
    ctl status >/dev/null 2>&1 || fail 5 "no socket activation after the self-bound run"
}
step5b

# ----------------------------------------------------------------- step 6 ----
step6() {
    [ "$(prop tenantsyncd.service ActiveState)" = active ] || { fail 6 "the service is not running before the stop"; return; }
    local timeout_usec; timeout_usec=$(prop tenantsyncd.service TimeoutStopUSec)
    local started=$SECONDS
    sctl stop tenantsyncd.service 2>"$LOGDIR/stop.err" || { fail 6 "systemctl stop failed: $(cat "$LOGDIR/stop.err")"; return; }
    local took=$((SECONDS - started))
    local result; result="$(prop tenantsyncd.service Result) status=$(prop tenantsyncd.service ExecMainStatus) code=$(prop tenantsyncd.service ExecMainCode)"
    # ExecMainCode 1 = CLD_EXITED: it exited by itself, not killed by SIGKILL after the timeout.
    [ "$result" = "success status=0 code=1" ] || { fail 6 "the stop was not clean: $result"; jctl -u tenantsyncd -n 8 -o cat; return; }
    local tail_log; tail_log=$(jctl -u tenantsyncd.service -o cat | tail -n 20)
    grep -q 'tenantsyncd stopped' <<<"$tail_log" || { fail 6 "no 'tenantsyncd stopped' in the journal"; return; }
    grep -q 'Deactivated successfully' <<<"$tail_log" || { fail 6 "systemd did not log a successful deactivation"; return; }
    pass 6 "systemctl stop: exit 0 after ${took}s (TimeoutStopSec=$timeout_usec), Result=success"
}
step6

# ------------------------------------------------------------ steps 7-14 ----
# The same installed service moved to PostgreSQL, as an operator would: see the sourced file.
source "$ROOT/Tests/EndToEnd/systemd-e2e-postgresql.sh"
step7
step8
step9
step10
step11
step12
step13
step14

# ---------------------------------------------------------------- step 15 ----
step15() {
    # The daemon on PostgreSQL stops as cleanly as on SQLite (its pool closes within the stop timeout).
    if [ "$(prop tenantsyncd.service ActiveState)" = active ]; then
        local pid; pid=$(prop tenantsyncd.service MainPID)
        sctl stop tenantsyncd.service 2>"$LOGDIR/stop.err" || fail 15 "systemctl stop failed on PostgreSQL: $(cat "$LOGDIR/stop.err")"
        local result; result="$(prop tenantsyncd.service Result) status=$(prop tenantsyncd.service ExecMainStatus) code=$(prop tenantsyncd.service ExecMainCode) pid=$(prop tenantsyncd.service ExecMainPID)"
        if [ "$result" = "success status=0 code=1 pid=$pid" ]; then
            pass 15 "systemctl stop of the daemon on PostgreSQL: exit 0, Result=success"
        else
            fail 15 "the stop on PostgreSQL was not clean: $result (main pid was $pid)"; jctl -u tenantsyncd -n 8 -o cat
        fi
    fi
    # make uninstall removes what make install put in place and keeps the edited configuration.
    if ns make -C "$ROOT" --no-print-directory uninstall >"$LOGDIR/uninstall.log" 2>&1 \
        && ! ns test -e /usr/local/bin/tenantsyncd && ! ns test -e /usr/local/lib/systemd/system/tenantsyncd.service \
        && ! ns test -e /usr/local/lib/systemd/catalog/tenantsync.catalog && ns test -e /etc/tenantsync/tenantsyncd.toml \
        && [ "$(prop tenantsyncd.socket LoadState)" = not-found ]; then
        pass 15 "make uninstall removed binaries, units and catalog, kept the edited configuration"
    else
        fail 15 "make uninstall left files behind or failed"; tail -5 "$LOGDIR/uninstall.log"
    fi
    local pid=$PID1
    ns systemctl --no-block exit >/dev/null 2>&1
    if wait_for 30 sh -c "! kill -0 $pid"; then
        pass 15 "systemctl exit shut the namespace down (PID 1 gone)"
        PID1=
    else
        fail 15 "systemd did not exit within 30 s of systemctl exit"
    fi
}
step15

summary
[ "$failed" -eq 0 ]
