#!/usr/bin/env bash
# The Debian package under a real systemd, end to end. Run as root:
#
#   bash Tests/EndToEnd/deb-e2e.sh
#   CONFIGURATION=release bash Tests/EndToEnd/deb-e2e.sh
#
# Builds tenantsync_V1.deb from the binaries of an existing `swift build`
# (BUILDDIR, default .build/$CONFIGURATION) and lintian-checks it; then builds the
# "next version": a fixture migration (the next free number) is added for the time
# of one incremental rebuild of tenantsyncd, packed as V2, and taken out again (a
# trap restores the sources and rebuilds, whatever happens).
#
# Boots systemd as PID 1 of a new PID + mount namespace as
# Tests/EndToEnd/systemd-e2e.sh does (private /run, /tmp, /var/tmp; /etc, /usr
# and /var overlays whose writable layers live on that private /run), so
# dpkg installs into a throw-away root: the machine's files and package database
# are never written. The Swift toolchain (/opt/swift) is hidden in the namespace.
# The emulator runs outside it, on loopback.
#
# Steps: install V1 (user, catalog, socket enabled but not started, ldd resolves
# everything without the toolchain, man pages, completions); start the socket and
# provision an account against the emulator; upgrade to V2 (the daemon restarts,
# the schema migrates, a pre-migration copy exists, the account and its tokens
# survive, the edited configuration is kept); remove (units stopped, state kept);
# purge (state, key, user removed after saying so).
#
# Prints one line per step (PASS/FAIL) with timings and ends with "N passed, M failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONFIGURATION=${CONFIGURATION:-debug}
BUILDDIR=${BUILDDIR:-$ROOT/.build/$CONFIGURATION}
TENANT=contoso.onmicrosoft.com
SOCKET=/run/tenantsync/control
MESSAGE_ID_PROTECTED=8639c5e1afbc45b08231bd43609a800b
STARTED_AT=$SECONDS

passed=0 failed=0
pass() { echo "PASS $1: $2"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
note() { echo "    $*"; }
summary() {
    echo "deb e2e took $((SECONDS - STARTED_AT))s"
    echo "$passed passed, $failed failed"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL setup: the package end-to-end test needs root (it boots systemd in a namespace)"; summary; exit 1
fi
for tool in unshare nsenter curl sqlite3 make setpriv timeout dpkg-deb dpkg-shlibdeps patchelf lintian; do
    command -v "$tool" >/dev/null || { echo "FAIL setup: $tool is missing (bash scripts/ensure-deps.sh installs it)"; summary; exit 1; }
done
for program in tenantsyncd tenantsyncctl tenantsync-manpages tenantsync-emulator; do
    [ -x "$BUILDDIR/$program" ] || { echo "FAIL setup: $BUILDDIR/$program is not built (swift build -c $CONFIGURATION)"; summary; exit 1; }
done

# Packages and logs: below the build directory, not /tmp (the namespace's /tmp is private).
WORK=$(mktemp -d "$ROOT/.build/deb-e2e.XXXXXX")
UNSHARE_PID= PID1= EMULATOR_PID=
list_cgroups() { find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d \( -name '*.scope' -o -name '*.slice' -o -name '*.mount' \) 2>/dev/null | sort; }
cgroups_before=$(list_cgroups)
ns() { nsenter -t "$PID1" -m -p -- env SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"; }
sctl() { ns timeout 30 systemctl --no-pager "$@"; }
jctl() { ns timeout 30 journalctl --no-pager "$@"; }
prop() { sctl show -p "$2" --value "$1"; }
ctl() { ns timeout 30 tenantsyncctl --socket "$SOCKET" "$@"; }
db() { ns sqlite3 -readonly /var/lib/tenantsync/tenantsync.sqlite "$@"; }

# ------------------------------------------------ the fixture migration ---
MIGRATIONS=$ROOT/Migrations
LATEST=$(find "$MIGRATIONS" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -n1 | cut -c1-4)
NEXT=$(printf '%04d' $((10#$LATEST + 1)))
FIXTURE=${NEXT}_deb_e2e_upgrade_fixture.sql
FIXTURE_ADDED=no
restore_sources() {
    [ "$FIXTURE_ADDED" = yes ] || return 0
    cp "$WORK/Package.swift.orig" "$ROOT/Package.swift"
    cp "$WORK/SchemaMigrations.swift.orig" "$MIGRATIONS/SchemaMigrations.swift"
    rm -f "$MIGRATIONS/$FIXTURE"
    FIXTURE_ADDED=no
    # The build directory must not keep a tenantsyncd that knows the fixture migration.
    local started=$SECONDS
    if (cd "$ROOT" && swift build -c "$CONFIGURATION" --product tenantsyncd) >"$WORK/rebuild-restore.log" 2>&1; then
        note "restored the sources and rebuilt tenantsyncd without the fixture in $((SECONDS - started))s"
    else
        echo "FAIL restore: rebuilding tenantsyncd without the fixture migration failed; run swift build -c $CONFIGURATION"
        tail -n 20 "$WORK/rebuild-restore.log"
        failed=$((failed + 1))
    fi
}

cleanup() {
    local status=$?
    restore_sources
    if [ -n "$PID1" ] && kill -0 "$PID1" 2>/dev/null; then
        ns timeout 10 systemctl --no-block exit >/dev/null 2>&1 || true
        for _ in $(seq 1 40); do kill -0 "$PID1" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$PID1" 2>/dev/null && kill -KILL "$PID1" 2>/dev/null
    fi
    if [ -n "$UNSHARE_PID" ]; then
        for _ in $(seq 1 20); do kill -0 "$UNSHARE_PID" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$UNSHARE_PID" 2>/dev/null && kill -KILL "$UNSHARE_PID" 2>/dev/null
        wait "$UNSHARE_PID" 2>/dev/null
    fi
    if [ -n "$EMULATOR_PID" ]; then kill "$EMULATOR_PID" 2>/dev/null; wait "$EMULATOR_PID" 2>/dev/null; fi
    local dir
    for dir in $(comm -13 <(echo "$cgroups_before") <(list_cgroups)); do
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; failed=$((failed + 1)); summary; exit 1' INT TERM

wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.25
    done
}

# ---------------------------------------------------------------- packages ---
UPSTREAM=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$ROOT/Sources/TenantSyncCore/Version.swift")
V1=$UPSTREAM-1
V2=$UPSTREAM-2
ARCH=$(dpkg --print-architecture)
build_deb() { # VERSION
    make -C "$ROOT" --no-print-directory deb CONFIGURATION="$CONFIGURATION" BUILDDIR="$BUILDDIR" \
        DEB_VERSION="$1" DEB_OUTPUT="$WORK/debs" DEB_COMPRESSION="${DEB_COMPRESSION:-gzip}" >"$WORK/deb-$1.log" 2>&1
}
started=$SECONDS
if build_deb "$V1"; then
    pass package "make deb built tenantsync_${V1}_${ARCH}.deb from $BUILDDIR in $((SECONDS - started))s ($(du -h "$WORK/debs/tenantsync_${V1}_${ARCH}.deb" | cut -f1))"
else
    fail package "make deb failed:"; tail -n 20 "$WORK/deb-$V1.log"; summary; exit 1
fi
DEB1=$WORK/debs/tenantsync_${V1}_${ARCH}.deb
depends=$(dpkg-deb -f "$DEB1" Depends)
if grep -q 'libsqlite3-0' <<<"$depends" && grep -q 'libsystemd0' <<<"$depends" && ! grep -qi swift <<<"$depends"; then
    pass package "Depends (dpkg-shlibdeps): $depends"
else
    fail package "Depends lacks libsqlite3-0 or libsystemd0, or names Swift: $depends"
fi
contents=$(dpkg-deb -c "$DEB1" | awk '{print $6}')
missing=
for path in ./usr/bin/tenantsyncd ./usr/bin/tenantsyncctl ./usr/lib/systemd/system/tenantsyncd.service \
    ./usr/lib/systemd/system/tenantsyncd.socket ./usr/lib/sysusers.d/tenantsync.conf ./usr/lib/systemd/catalog/tenantsync.catalog \
    ./etc/tenantsync/tenantsyncd.toml ./usr/share/doc/tenantsync/copyright ./usr/share/doc/tenantsync/changelog.Debian.gz \
    ./usr/share/man/man8/tenantsyncd.8.gz ./usr/share/man/man8/tenantsyncctl.8.gz ./usr/share/man/man5/tenantsyncd.toml.5.gz \
    ./usr/share/bash-completion/completions/tenantsyncctl ./usr/share/zsh/vendor-completions/_tenantsyncctl \
    ./usr/share/fish/vendor_completions.d/tenantsyncctl.fish ./usr/lib/tenantsync/libswiftCore.so; do
    grep -qxF "$path" <<<"$contents" || missing+=" $path"
done
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB1" | tar -xO ./conffiles)
if [ -z "$missing" ] && [ "$conffiles" = /etc/tenantsync/tenantsyncd.toml ] && ! grep -q tenantsync-emulator <<<"$contents"; then
    pass package "contents: binaries, private Swift runtime ($(grep -c '^./usr/lib/tenantsync/.' <<<"$contents") libraries), units, sysusers, catalog, man pages, completions, docs; conffile $conffiles; no emulator"
else
    fail package "missing:${missing:- none}; conffiles: '$conffiles'"
fi
started=$SECONDS
lintian_out=$(lintian --fail-on error --display-level '>=warning' "$DEB1" 2>&1); lintian_status=$?
if [ "$lintian_status" -eq 0 ] && ! grep -q '^E:' <<<"$lintian_out"; then
    pass lintian "no errors ($((SECONDS - started))s); $(grep -c '^W:' <<<"$lintian_out") warning(s)$(grep '^W:' <<<"$lintian_out" | sed 's/^/\n      /' | tr -d '\n' | head -c 2000)"
else
    fail lintian "lintian exited $lintian_status:"; echo "$lintian_out" | head -n 30
fi

# The next version: a new migration, one incremental rebuild.
cp "$ROOT/Package.swift" "$WORK/Package.swift.orig"
cp "$MIGRATIONS/SchemaMigrations.swift" "$WORK/SchemaMigrations.swift.orig"
FIXTURE_ADDED=yes
printf -- '-- Added by Tests/EndToEnd/deb-e2e.sh for one build; never committed.\nCREATE TABLE deb_e2e_upgrade_marker (id INTEGER PRIMARY KEY NOT NULL);\n' > "$MIGRATIONS/$FIXTURE"
# After the SQLite sequence's newest file: the PostgreSQL target embeds files of its own numbering further down.
LATEST_FILE=$(find "$MIGRATIONS" -maxdepth 1 -name "${LATEST}_*.sql" -printf '%f\n' | head -n1)
last_resource=$(grep -n "\.embedInCode(\"$LATEST_FILE\")" "$ROOT/Package.swift" | head -n1 | cut -d: -f1)
sed -i "${last_resource}a\\                .embedInCode(\"$FIXTURE\")," "$ROOT/Package.swift"
last_entry=$(grep -n 'migration("[0-9]\{4\}_' "$MIGRATIONS/SchemaMigrations.swift" | tail -n1 | cut -d: -f1)
symbol=_$(echo "${FIXTURE%.sql}" | cut -c2- | tr -c 'A-Za-z0-9\n' '_')_sql
sed -i "${last_entry}a\\        migration(\"$FIXTURE\", PackageResources.$symbol)," "$MIGRATIONS/SchemaMigrations.swift"
started=$SECONDS
if (cd "$ROOT" && swift build -c "$CONFIGURATION" --product tenantsyncd) >"$WORK/rebuild-fixture.log" 2>&1; then
    rebuild_took=$((SECONDS - started))
    started=$SECONDS
    if build_deb "$V2"; then
        pass package "V2 ($V2, migration $FIXTURE): incremental rebuild of tenantsyncd ${rebuild_took}s, make deb $((SECONDS - started))s"
    else
        fail package "make deb of V2 failed:"; tail -n 20 "$WORK/deb-$V2.log"
    fi
else
    fail package "the rebuild with the fixture migration failed:"; tail -n 20 "$WORK/rebuild-fixture.log"
fi
restore_sources
DEB2=$WORK/debs/tenantsync_${V2}_${ARCH}.deb

# ------------------------------------------------------------------- boot ----
# As systemd-e2e.sh, plus: the package directory bound to /run/deb-e2e, and an
# empty tmpfs over /opt/swift (the toolchain).
DEB_WORK="$WORK" unshare --pid --fork --mount --mount-proc --propagation private sh -c '
    set -e
    mount --make-rprivate /
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir -p /run/deb-e2e
    mount --bind "$DEB_WORK" /run/deb-e2e
    for dir in etc usr var; do
        mkdir -p /run/e2e-overlay/$dir/upper /run/e2e-overlay/$dir/work
        mount -t overlay overlay -o lowerdir=/$dir,upperdir=/run/e2e-overlay/$dir/upper,workdir=/run/e2e-overlay/$dir/work /$dir
    done
    if [ -d /opt/swift ]; then mount -t tmpfs -o mode=0755 tmpfs /opt/swift; fi
    # The policy-rc.d of a container image ("exit 101": start nothing during docker build) makes
    # deb-systemd-invoke skip every start, stop and restart; a server has none. Gone from the overlay only.
    rm -f /usr/sbin/policy-rc.d
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs -o mode=1777 tmpfs /var/tmp
    mount --make-rshared /
    exec /usr/lib/systemd/systemd --system --unit=basic.target
' >"$WORK/systemd.log" 2>&1 &
UNSHARE_PID=$!
for _ in $(seq 1 40); do
    PID1=$(ps -o pid= --ppid "$UNSHARE_PID" | tr -d ' ' | head -n1)
    [ -n "$PID1" ] && [ "$(cat /proc/"$PID1"/comm 2>/dev/null)" = systemd ] && break
    PID1=
    sleep 0.25
done
[ -n "$PID1" ] || { echo "FAIL boot: systemd did not start in the namespace"; cat "$WORK/systemd.log"; summary; exit 1; }
booted() { case "$(ns systemctl is-system-running 2>/dev/null)" in running|degraded) return 0;; *) return 1;; esac; }
wait_for 40 booted || { echo "FAIL boot: systemd did not finish booting: $(ns systemctl is-system-running 2>&1)"; summary; exit 1; }
note "systemd $(ns systemctl --version | head -n1 | cut -d' ' -f2) is PID 1 of the namespace (host pid $PID1)"

# The emulator, outside the namespace (same network), from the build directory.
"$BUILDDIR/tenantsync-emulator" --tenants 1 --users 25 --groups 3 >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMULATOR_PID=$!
emulator_url() { grep -m1 -E '^http://127\.0\.0\.1:[0-9]+$' "$WORK/emulator.out"; }
wait_for 30 emulator_url || { echo "FAIL setup: the emulator did not print its URL"; tail -n 5 "$WORK/emulator.err"; summary; exit 1; }
EMULATOR=$(emulator_url)

# ----------------------------------------------------------------- install ---
install_step() {
    local started=$SECONDS
    ns dpkg -i "/run/deb-e2e/debs/$(basename "$DEB1")" >"$WORK/install.log" 2>&1 \
        || { fail install "dpkg -i $V1 failed:"; tail -n 15 "$WORK/install.log"; return 1; }
    pass install "dpkg -i $V1 into the namespace's throw-away root in $((SECONDS - started))s"
    if [ -n "$(ns ls -A /opt/swift 2>/dev/null)" ] || ns sh -c 'command -v swift' >/dev/null 2>&1; then
        fail install "the Swift toolchain is visible in the namespace"
    fi
    local ldd_out; ldd_out=$(ns env LD_LIBRARY_PATH= ldd /usr/bin/tenantsyncd /usr/bin/tenantsyncctl 2>&1)
    if grep -q 'not found' <<<"$ldd_out" || grep -q '/opt/swift' <<<"$ldd_out" \
        || ! grep -qE 'libswiftCore\.so => /usr/bin/\.\./lib/tenantsync/libswiftCore\.so' <<<"$ldd_out"; then
        fail install "ldd without the toolchain: $(grep -E 'not found|/opt/swift|libswiftCore' <<<"$ldd_out" | head -n 3)"
    elif version=$(ns env LD_LIBRARY_PATH= tenantsyncd --version 2>&1); then
        pass install "/opt/swift hidden; with an empty LD_LIBRARY_PATH ldd resolves every library, Swift's in /usr/lib/tenantsync (RUNPATH \$ORIGIN/../lib/tenantsync); tenantsyncd --version: $version"
    else
        fail install "tenantsyncd does not run without the toolchain: $version"
    fi
    local enabled active
    enabled=$(sctl is-enabled tenantsyncd.socket 2>&1); active=$(sctl is-active tenantsyncd.socket 2>&1)
    if ns getent passwd tenantsync >/dev/null && jctl --list-catalog 2>/dev/null | grep -q "^$MESSAGE_ID_PROTECTED " \
        && [ "$enabled" = enabled ] && [ "$active" = inactive ] && [ "$(prop tenantsyncd.service ActiveState)" = inactive ]; then
        pass install "postinst: user tenantsync (sysusers), catalog updated, tenantsyncd.socket $enabled but $active, service inactive"
    else
        fail install "postinst: user $(ns getent passwd tenantsync || echo missing), socket is-enabled=$enabled is-active=$active"
    fi
    local man8 man5 manctl
    man8=$(ns env MANPAGER=cat MANWIDTH=100 man 8 tenantsyncd 2>&1); man5=$(ns env MANPAGER=cat MANWIDTH=100 man 5 tenantsyncd.toml 2>&1)
    manctl=$(ns env MANPAGER=cat MANWIDTH=100 man 8 tenantsyncctl 2>&1)
    if grep -q -- '--check-config' <<<"$man8" && grep -q 'refresh_margin' <<<"$man5" && grep -q 'search-groups' <<<"$manctl"; then
        pass install "man tenantsyncd, man tenantsyncd.toml, man tenantsyncctl render"
    else
        fail install "a man page does not render: $(head -n 3 <<<"$man8$man5$manctl")"
    fi
}
install_step || { summary; exit 1; }

# ------------------------------------------------------- start, provision ---
ns sh -c 'umask 077; mkdir -p /etc/credstore
          head -c 32 /dev/urandom | base64 > /etc/credstore/tenantsync.key
          printf %s emulator-client-secret > /etc/credstore/microsoft-client-secret'
ns sh -c "cat > /etc/tenantsync/tenantsyncd.toml" <<EOF
# Written by Tests/EndToEnd/deb-e2e.sh: the operator's edit of the conffile.
[microsoft]
authority = "$EMULATOR"
graph = "$EMULATOR"
outlook = "$EMULATOR/outlook"
EOF
ns sh -c 'getent passwd e2e-outsider >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin e2e-outsider'
complete_accounts() { # [setpriv args...]: what Tab after "tenantsyncctl account " offers, through the installed bash completion
    ns "$@" bash -c 'source /usr/share/bash-completion/completions/tenantsyncctl
        COMP_WORDS=(tenantsyncctl account ""); COMP_CWORD=2; COMP_LINE="tenantsyncctl account "; COMP_POINT=${#COMP_LINE}
        _tenantsyncctl tenantsyncctl "" account; printf "%s\n" "${COMPREPLY[@]}"'
}
ACCOUNT=
provision_step() {
    sctl start tenantsyncd.socket || { fail provision "systemctl start tenantsyncd.socket failed"; return 1; }
    ctl provision sharepoint-online --tenant "$TENANT" --device-code --confirm-app-principal --scope all </dev/null >"$WORK/provision.out" 2>&1 &
    local provision=$!
    curl -sS -X POST "$EMULATOR/_emulator/tenants/$TENANT/device-codes/approve-next?wait=20" >"$WORK/approve.out" 2>&1
    wait "$provision" || { fail provision "tenantsyncctl provision exited $?: $(tail -n 3 "$WORK/provision.out" | tr '\n' ' ')"; return 1; }
    ACCOUNT=$(ctl --json accounts | grep -o '"id" *: *[0-9]*' | head -n1 | grep -o '[0-9]*$')
    [ -n "$ACCOUNT" ] || { fail provision "no account listed after provisioning"; return 1; }
    [ "$(prop tenantsyncd.service TriggeredBy)" = tenantsyncd.socket ] || { fail provision "the service was not started by its socket"; return 1; }
    pass provision "socket-activated daemon provisioned SharePoint Online for $TENANT (account $ACCOUNT) against the emulator"
    local offered refused
    offered=$(complete_accounts 2>&1)
    refused=$(complete_accounts setpriv --reuid=e2e-outsider --regid=e2e-outsider --init-groups 2>&1)
    if grep -qx "$ACCOUNT" <<<"$offered" && [ -z "$refused" ]; then
        pass completion "bash Tab after 'tenantsyncctl account ' offers account $ACCOUNT from the daemon; for a user outside the group it offers nothing, silently"
    else
        fail completion "bash completion offered '$(echo $offered)' to root and '$(echo $refused)' to an outsider"
    fi
}
provision_step || { summary; exit 1; }

# ----------------------------------------------------------------- upgrade ---
tokens() { db "SELECT count(*) FROM token_sets t JOIN grants g ON g.id = t.grant_id JOIN service_accounts a ON a.id = g.account_id WHERE a.id = $ACCOUNT AND t.refresh_token_sealed IS NOT NULL;"; }
upgrade_step() {
    [ -f "$DEB2" ] || { fail upgrade "no V2 package to upgrade to"; return 1; }
    local pid_before tokens_before schema_before
    pid_before=$(prop tenantsyncd.service MainPID)
    tokens_before=$(tokens); schema_before=$(db "SELECT max(version) FROM schema_migrations;")
    [ "${tokens_before:-0}" -gt 0 ] || { fail upgrade "the account has no stored refresh token before the upgrade"; return 1; }
    local started=$SECONDS
    ns dpkg -i "/run/deb-e2e/debs/$(basename "$DEB2")" >"$WORK/upgrade.log" 2>&1 \
        || { fail upgrade "dpkg -i $V2 failed:"; tail -n 15 "$WORK/upgrade.log"; return 1; }
    local took=$((SECONDS - started))
    local installed; installed=$(ns dpkg-query -W -f '${Version}' tenantsync)
    ready() { [ "$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState)" = active/running ]; }
    wait_for 30 ready || { fail upgrade "the daemon is not running after the upgrade"; jctl -u tenantsyncd -n 10 -o cat; return 1; }
    local pid_after; pid_after=$(prop tenantsyncd.service MainPID)
    [ "$installed" = "$V2" ] && [ "$pid_after" != "$pid_before" ] \
        || { fail upgrade "version $installed (want $V2), MainPID $pid_before -> $pid_after (want a restart)"; return 1; }
    pass upgrade "dpkg -i $V2 in ${took}s: postinst restarted the daemon (pid $pid_before -> $pid_after)"
    local schema_after copy; schema_after=$(db "SELECT max(version) FROM schema_migrations;")
    copy=/var/lib/tenantsync/tenantsync.sqlite.schema-$(printf '%04d' "$schema_before").bak
    if [ "$schema_after" = "$((10#$NEXT))" ] && ns test -s "$copy" \
        && [ "$(ns sqlite3 -readonly "$copy" 'SELECT max(version) FROM schema_migrations;')" = "$schema_before" ] \
        && [ "$(ns stat -c '%a %U' "$copy")" = "600 tenantsync" ] \
        && jctl -u tenantsyncd.service -o cat | grep -q 'Copied the state database before migrating it'; then
        pass upgrade "schema $schema_before -> $schema_after at start; pre-migration copy $copy (schema $schema_before, 600 tenantsync) logged"
    else
        fail upgrade "schema $schema_before -> $schema_after (want $((10#$NEXT))); copy $copy: $(ns ls -l "$copy" 2>&1)"
    fi
    local tokens_after state; tokens_after=$(tokens)
    state=$(ctl account "$ACCOUNT" 2>&1 | sed -n 's/^State: *//p')
    if [ "$tokens_after" = "$tokens_before" ] && [ "$state" = active ] && ctl sync --tenant "$TENANT" --wait >"$WORK/sync.out" 2>&1; then
        pass upgrade "account $ACCOUNT survived ($state, $tokens_after grant(s) with a sealed refresh token); a manual sync with its tokens succeeded after the upgrade"
    else
        fail upgrade "account $ACCOUNT after the upgrade: state '$state', tokens $tokens_before -> $tokens_after; sync: $(tail -n 2 "$WORK/sync.out" | tr '\n' ' ')"
    fi
    if ns grep -q "$EMULATOR" /etc/tenantsync/tenantsyncd.toml; then
        pass upgrade "the edited conffile /etc/tenantsync/tenantsyncd.toml was kept"
    else
        fail upgrade "the upgrade replaced the edited configuration"
    fi
}
upgrade_step

# ------------------------------------------------------------------ remove ---
remove_step() {
    ns dpkg -r tenantsync >"$WORK/remove.log" 2>&1 || { fail remove "dpkg -r failed:"; tail -n 10 "$WORK/remove.log"; return 1; }
    local service socket; service=$(prop tenantsyncd.service ActiveState); socket=$(prop tenantsyncd.socket ActiveState)
    local gone=yes path
    for path in /usr/bin/tenantsyncd /usr/bin/tenantsyncctl /usr/lib/systemd/system/tenantsyncd.service /usr/lib/tenantsync /usr/share/man/man8/tenantsyncd.8.gz; do
        ns test -e "$path" && gone="no ($path)"
    done
    if [ "$service" = inactive ] && [ "$socket" = inactive ] && [ "$gone" = yes ] \
        && ns test -s /var/lib/tenantsync/tenantsync.sqlite && ns test -s /etc/credstore/tenantsync.key \
        && ns test -f /etc/tenantsync/tenantsyncd.toml && ns getent passwd tenantsync >/dev/null; then
        pass remove "dpkg -r: units stopped (service $service, socket $socket), files gone; kept: /var/lib/tenantsync, the key, the configuration, the user"
    else
        fail remove "after dpkg -r: service $service, socket $socket, files gone: $gone; $(ns ls /var/lib/tenantsync /etc/tenantsync 2>&1 | tr '\n' ' ')"
    fi
}
remove_step

purge_step() {
    ns dpkg -P tenantsync >"$WORK/purge.log" 2>&1 || { fail purge "dpkg -P failed:"; tail -n 10 "$WORK/purge.log"; return 1; }
    local said; said=$(grep -c '^tenantsync: purge removes' "$WORK/purge.log")
    local left=
    ns test -e /var/lib/tenantsync && left+=" /var/lib/tenantsync"
    ns test -e /etc/credstore/tenantsync.key && left+=" /etc/credstore/tenantsync.key"
    ns test -e /etc/tenantsync && left+=" /etc/tenantsync"
    ns getent passwd tenantsync >/dev/null && left+=" user"
    ns getent group tenantsync >/dev/null && left+=" group"
    ns test -e /etc/systemd/system/sockets.target.wants/tenantsyncd.socket && left+=" socket-enablement"
    local status; status=$(ns dpkg-query -W -f '${db:Status-Abbrev}' tenantsync 2>&1)
    if [ "$said" -ge 1 ] && [ -z "$left" ] && ns test -s /etc/credstore/microsoft-client-secret; then
        pass purge "dpkg -P said what it removes, then removed state, key, configuration, user, group and enablement (dpkg status '$status'; the other credentials kept)"
    else
        fail purge "after dpkg -P: announced=$said, left:${left:- nothing}"; cat "$WORK/purge.log"
    fi
}
purge_step

summary
[ "$failed" -eq 0 ]
