# Sourced by Tests/EndToEnd/systemd-e2e.sh after its SQLite steps: the installed tenantsyncd.service moved to
# PostgreSQL the way an operator would do it, under the namespace's systemd. Uses the main script's helpers
# (ns, sctl, jctl, prop, ctl, pass, fail, note, wait_for, write_config) and its variables (ROOT, LOGDIR, SOCKET).
#
# Inside the namespace (whose /etc and /var are throw-away overlays) it creates a PostgreSQL 15 cluster with
# Debian's tooling on a free loopback port, starts it through systemd (the postgresql generator and
# postgresql@15-e2e.service), gives tenantsyncd the drop-in of contrib/systemd/ (After=/Wants=postgresql.service,
# the password as an encrypted credential), copies the SQLite state the earlier steps made with
# `tenantsyncd --migrate-to-postgresql` and runs the daemon on the database. The password is generated here and
# never printed.

PG_VERSION=15
PG_CLUSTER=e2e
PG_UNIT=postgresql@$PG_VERSION-$PG_CLUSTER.service
PG_USER=tenantsync
PG_DB=tenantsync
PG_PORT=
PG_PASSWORD=
PG_URL=
PG_TLS=
NODE_NAME=e2e-pg-node
DROPIN_SOURCE=$ROOT/contrib/systemd/tenantsyncd.service.d/postgresql.conf
DROPIN=/etc/systemd/system/tenantsyncd.service.d/postgresql.conf
PASSWORD_CREDENTIAL=/etc/credstore.encrypted/database-password
PG_READY=no
DAEMON_ON_PG=no

# A loopback port nothing listens on (the namespace shares the machine's network).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 20000))
        if [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then echo "$port"; return 0; fi
    done
    return 1
}
# psql as the cluster's superuser over its Unix socket in the namespace's /run/postgresql.
pgsql() { ns runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }
# Writes the database password, encrypted with the namespace's host key, where the drop-in loads it from.
write_password_credential() {
    printf %s "$1" | ns sh -c "umask 077; mkdir -p ${PASSWORD_CREDENTIAL%/*} && systemd-creds encrypt --name=database-password - $PASSWORD_CREDENTIAL" 2>"$LOGDIR/creds.err"
}
# Fails (returning 1) when the password shows in the text on stdin.
free_of_password() { ! grep -qF -- "$PG_PASSWORD"; }
# Copies stdin with the passwords of this file replaced, for failure messages (they are never expected there).
redact() { sed -e "s/${PG_PASSWORD:-@@@}/[password]/g" -e "s/${WRONG_PASSWORD:-@@@}/[password]/g"; }
WRONG_PASSWORD=

# ----------------------------------------------------------------- step 7 ----
step7() {
    if ! ns test -x /usr/lib/postgresql/$PG_VERSION/bin/postgres || ! ns test -x /usr/bin/pg_createcluster; then
        fail 7 "Debian's postgresql-$PG_VERSION is not installed (apt-get install postgresql)"; return
    fi
    PG_PORT=$(free_port) || { fail 7 "no free loopback port for PostgreSQL"; return; }
    # The machine's own clusters (15/main on 5432) must not start in the namespace: it shares the machine's
    # network. start.conf lives on the /etc overlay, so the machine's file is not changed.
    local conf
    for conf in $(ns sh -c 'ls /etc/postgresql/*/*/start.conf 2>/dev/null'); do
        ns sh -c "echo manual > $conf"
    done
    # Debian's snakeoil certificate (ssl-cert), which pg_createcluster turns ssl on with; a fresh machine has it
    # from the ssl-cert package's postinst, this one may not.
    if ! ns test -s /etc/ssl/certs/ssl-cert-snakeoil.pem && ns test -x /usr/sbin/make-ssl-cert; then
        ns make-ssl-cert generate-default-snakeoil >"$LOGDIR/snakeoil.log" 2>&1
    fi
    if ! ns pg_createcluster $PG_VERSION $PG_CLUSTER --port "$PG_PORT" -- --auth-local=peer --auth-host=scram-sha-256 >"$LOGDIR/pg_createcluster.log" 2>&1; then
        fail 7 "pg_createcluster $PG_VERSION $PG_CLUSTER --port $PG_PORT failed:"; tail -5 "$LOGDIR/pg_createcluster.log"; return
    fi
    # As Debian does: the generator (run by daemon-reload) makes postgresql.service want every "auto" cluster.
    sctl daemon-reload
    local wants; wants=$(ns sh -c 'ls /run/systemd/generator/postgresql.service.wants/ 2>/dev/null' | tr '\n' ' ')
    [ "$wants" = "$PG_UNIT " ] || { fail 7 "the postgresql generator made postgresql.service want '$wants', want only $PG_UNIT"; return; }
    sctl start postgresql.service || { fail 7 "systemctl start postgresql.service failed"; jctl -u "$PG_UNIT" -n 10 -o cat; return; }
    [ "$(prop "$PG_UNIT" ActiveState)" = active ] || { fail 7 "$PG_UNIT is $(prop "$PG_UNIT" ActiveState) after starting postgresql.service"; return; }
    pg_ready() { ns pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
    wait_for 30 pg_ready || { fail 7 "PostgreSQL does not accept connections on 127.0.0.1:$PG_PORT"; return; }
    # A role with a password (stored as a SCRAM verifier) and its database. The password goes through psql's
    # stdin, never a command line.
    PG_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=')
    if ! pgsql -d postgres >"$LOGDIR/pg-role.log" 2>&1 <<EOF
SET password_encryption = 'scram-sha-256';
CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD';
CREATE DATABASE $PG_DB OWNER $PG_USER;
EOF
    then
        fail 7 "creating role and database failed: $(tail -n2 "$LOGDIR/pg-role.log" | redact)"; return
    fi
    local verifier; verifier=$(pgsql -d postgres -c "SELECT substr(rolpassword, 1, 13) FROM pg_authid WHERE rolname = '$PG_USER'")
    local host_auth; host_auth=$(pgsql -d postgres -c "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules WHERE type = 'host'")
    local ssl; ssl=$(pgsql -d postgres -c 'SHOW ssl')
    # With Debian's snakeoil certificate pg_createcluster turns ssl on: "require" encrypts (the certificate names
    # the host, not 127.0.0.1, so verify-full cannot hold). Without it, "disable" (accepted for loopback only).
    if [ "$ssl" = on ]; then PG_TLS=require; else PG_TLS=disable; fi
    [ "$verifier" = 'SCRAM-SHA-256' ] && [ "$host_auth" = scram-sha-256 ] || { fail 7 "password verifier '$verifier', host auth '$host_auth': want SCRAM-SHA-256 and scram-sha-256"; return; }
    PG_URL="postgresql://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"
    PG_READY=yes
    pass 7 "pg_createcluster $PG_VERSION $PG_CLUSTER --port $PG_PORT; the generator made postgresql.service want $PG_UNIT only (the machine's clusters set to manual); started through systemd; role $PG_USER (SCRAM verifier, host auth scram-sha-256) and database $PG_DB; ssl=$ssl"
}

# ----------------------------------------------------------------- step 8 ----
# The operator's move: stop, encrypt the password as a credential, point the configuration at the database,
# install the drop-in, copy the SQLite state with --migrate-to-postgresql (as the daemon's user, with the
# credentials the unit gets), start.
step8() {
    [ "$PG_READY" = yes ] || { fail 8 "no PostgreSQL cluster (step 7)"; return; }
    sctl stop tenantsyncd.socket tenantsyncd.service
    if ! write_password_credential "$PG_PASSWORD"; then
        fail 8 "systemd-creds encrypt failed: $(tail -n1 "$LOGDIR/creds.err")"; return
    fi
    note "password credential: systemd-creds encrypt --name=database-password - $PASSWORD_CREDENTIAL ($(ns stat -c '%a %U' "$PASSWORD_CREDENTIAL"), sealed with $(ns systemd-creds has-tpm2 >/dev/null 2>&1 && echo "the TPM and the host key" || echo "the host key: no TPM here"))"
    E2E_NODE_NAME=$NODE_NAME
    E2E_DATABASE_SECTION="[database]
url = \"$PG_URL\"
tls = \"$PG_TLS\""
    write_config 45s
    note "[database] url = \"$PG_URL\", tls = \"$PG_TLS\" ($([ "$PG_TLS" = require ] && echo "the cluster has ssl = on with Debian's snakeoil certificate, which names the host, not 127.0.0.1: encrypted, not verified" || echo "the cluster has ssl = off (no snakeoil certificate): loopback in clear")), [daemon] node_name = \"$NODE_NAME\""
    ns install -D -m 0644 "$DROPIN_SOURCE" "$DROPIN" || { fail 8 "cannot install the drop-in $DROPIN"; return; }
    sctl daemon-reload
    local verify; verify=$(ns systemd-analyze verify /usr/local/lib/systemd/system/tenantsyncd.service 2>&1)
    [ -z "$verify" ] || { fail 8 "systemd-analyze verify complains with the drop-in: $verify"; return; }
    local check; check=$(ns /usr/local/bin/tenantsyncd --check-config --config /etc/tenantsync/tenantsyncd.toml 2>&1) || { fail 8 "--check-config refused the configuration: $check"; return; }
    # The migration as the daemon's user, with the unit's state directory and credentials (README "Moving from
    # SQLite to PostgreSQL" shows the same command).
    local -a migrate=(systemd-run --wait --pipe --quiet --collect --uid=tenantsync --gid=tenantsync
        -p StateDirectory=tenantsync -p LoadCredential=tenantsync.key
        -p "LoadCredentialEncrypted=database-password:$PASSWORD_CREDENTIAL"
        /usr/local/bin/tenantsyncd --config /etc/tenantsync/tenantsyncd.toml --migrate-to-postgresql "$PG_URL")
    ns timeout 120 "${migrate[@]}" >"$LOGDIR/migrate.out" 2>&1
    local status=$?
    free_of_password <"$LOGDIR/migrate.out" || { fail 8 "the migration's output shows the password"; return; }
    [ "$status" -eq 0 ] || { fail 8 "tenantsyncd --migrate-to-postgresql exited $status: $(tail -n3 "$LOGDIR/migrate.out" | tr '\n' ' ')"; return; }
    note "--migrate-to-postgresql said: $(head -n1 "$LOGDIR/migrate.out") $(grep -E '^ +(service_accounts|token_sets) ' "$LOGDIR/migrate.out" | tr -s ' ' | tr '\n' ';') ... $(tail -n1 "$LOGDIR/migrate.out")"
    # Every copied table holds in PostgreSQL the rows it has in SQLite.
    local tables table sqlite_rows pg_rows copied=""
    tables=$(ns sqlite3 -readonly /var/lib/tenantsync/tenantsync.sqlite "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'store_write_probe', 'consent_sessions') ORDER BY name;")
    for table in $tables; do
        sqlite_rows=$(ns sqlite3 -readonly /var/lib/tenantsync/tenantsync.sqlite "SELECT count(*) FROM \"$table\";")
        pg_rows=$(pgsql -d "$PG_DB" -c "SELECT count(*) FROM \"$table\"" 2>&1)
        [ "$sqlite_rows" = "$pg_rows" ] || { fail 8 "table $table: $sqlite_rows rows in SQLite, '$pg_rows' in PostgreSQL after the migration"; return; }
        [ "$sqlite_rows" = 0 ] || copied+="$table=$pg_rows "
    done
    pass 8 "drop-in installed (systemd-analyze verify clean); tenantsyncd --migrate-to-postgresql under systemd-run (user tenantsync, the unit's credentials) copied the SQLite state: $(grep -c . "$LOGDIR/migrate.out") lines, rows equal in all $(echo "$tables" | wc -w) tables (${copied:-all empty})"
}

# ----------------------------------------------------------------- step 9 ----
step9() {
    [ -n "$PG_URL" ] || { fail 9 "no PostgreSQL configuration (step 8)"; return; }
    sctl start tenantsyncd.socket
    if ! sctl restart tenantsyncd.service 2>"$LOGDIR/pg-start.err"; then
        fail 9 "tenantsyncd.service does not start on PostgreSQL: $(jctl -u tenantsyncd -n 3 -o cat | redact)"; return
    fi
    local state; state="$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState)"
    local status_text; status_text=$(prop tenantsyncd.service StatusText)
    local after; after=$(prop tenantsyncd.service After)
    local wants; wants=$(prop tenantsyncd.service Wants)
    local dropins; dropins=$(prop tenantsyncd.service DropInPaths)
    [ "$state" = active/running ] || { fail 9 "tenantsyncd.service is $state on PostgreSQL"; return; }
    # Type=notify: "active" is reached only with READY=1 (step 1 watched it arrive in the manager's log).
    [ "$(prop tenantsyncd.service Type)" = notify ] || { fail 9 "tenantsyncd.service is Type=$(prop tenantsyncd.service Type), not notify"; return; }
    # The daemon runs on the database: the later steps look at it even if the unit's set-up below is wrong.
    DAEMON_ON_PG=yes
    [ -n "$status_text" ] || { fail 9 "StatusText is empty on PostgreSQL"; return; }
    grep -qw 'postgresql\.service' <<<"$after" || { fail 9 "systemctl show -p After has no postgresql.service: $after"; return; }
    grep -qw 'postgresql\.service' <<<"$wants" || { fail 9 "systemctl show -p Wants has no postgresql.service: $wants"; return; }
    grep -qF "$DROPIN" <<<"$dropins" || { fail 9 "the drop-in $DROPIN is not loaded: $dropins"; return; }
    pass 9 "active (running) after READY=1 on PostgreSQL (Type=notify), StatusText=\"$status_text\"; After= and Wants= have postgresql.service from $DROPIN"
}

# ---------------------------------------------------------------- step 10 ----
step10() {
    [ "$DAEMON_ON_PG" = yes ] || { fail 10 "no daemon on PostgreSQL (step 9)"; return; }
    local output
    output=$(ctl status 2>&1) || { fail 10 "tenantsyncctl status failed on PostgreSQL: $(echo "$output" | redact)"; return; }
    # "Nodes:" is printed only by a daemon on PostgreSQL (the cluster's nodes).
    grep -q '^Nodes: 1 (1 alive)' <<<"$output" || { fail 10 "tenantsyncctl status does not show this one node: $(echo "$output" | head -n4 | tr '\n' ' ')"; return; }
    local accounts; accounts=$(sed -n 's/^Accounts: \([0-9]*\) .*/\1/p' <<<"$output")
    local stored; stored=$(pgsql -d "$PG_DB" -c 'SELECT count(*) FROM service_accounts')
    [ -n "$accounts" ] && [ "$accounts" = "$stored" ] || { fail 10 "tenantsyncctl status counts '$accounts' accounts, PostgreSQL holds $stored"; return; }
    local nodes; nodes=$(ctl nodes 2>&1) || { fail 10 "tenantsyncctl nodes failed: $nodes"; return; }
    grep -qw -- "$NODE_NAME" <<<"$nodes" || { fail 10 "tenantsyncctl nodes does not list $NODE_NAME: $(echo "$nodes" | tr '\n' ' ')"; return; }
    local listed=0
    if [ "$stored" -gt 0 ]; then
        listed=$(ctl --json accounts | grep -o '"id"' | wc -l)
        [ "$listed" = "$stored" ] || { fail 10 "tenantsyncctl accounts lists $listed accounts, PostgreSQL holds $stored"; return; }
    fi
    pass 10 "tenantsyncctl status answers from PostgreSQL ('$(grep '^Nodes:' <<<"$output")', '$(grep '^Accounts:' <<<"$output")', the migrated accounts); tenantsyncctl nodes lists $NODE_NAME"
}

# ---------------------------------------------------------------- step 11 ----
step11() {
    [ "$DAEMON_ON_PG" = yes ] || { fail 11 "no daemon on PostgreSQL (step 9)"; return; }
    local node; node=$(pgsql -d "$PG_DB" -c "SELECT name || ' ' || version FROM nodes WHERE name = '$NODE_NAME' AND last_heartbeat_at > now() - interval '2 minutes'" 2>&1)
    [ -n "$node" ] || { fail 11 "no nodes row for $NODE_NAME with a recent heartbeat in PostgreSQL: $node"; return; }
    local migrations; migrations=$(ns sh -c "ls $ROOT/Migrations/postgresql/*.sql | wc -l")
    local version; version=$(pgsql -d "$PG_DB" -c 'SELECT max(version) FROM schema_migrations' 2>&1)
    [ "$version" = "$migrations" ] || { fail 11 "schema version in PostgreSQL is '$version', Migrations/postgresql has $migrations files"; return; }
    local key_check; key_check=$(pgsql -d "$PG_DB" -c 'SELECT count(*) FROM store_key_check' 2>&1)
    [ "$key_check" = 1 ] || { fail 11 "store_key_check holds '$key_check' rows, want the sealing key's check value"; return; }
    # The SQLite file is left as it was: the daemon no longer writes it.
    pass 11 "psql: nodes row '$node' with a recent heartbeat, schema version $version (= Migrations/postgresql), the key's check value stored"
}

# ---------------------------------------------------------------- step 12 ----
step12() {
    [ "$DAEMON_ON_PG" = yes ] || { fail 12 "no daemon on PostgreSQL (step 9)"; return; }
    local pid; pid=$(prop tenantsyncd.service MainPID)
    # The daemon's own connections: authenticated over TCP as the role (SCRAM: only with the password), encrypted,
    # and named by the configuration's node name.
    local sessions; sessions=$(pgsql -d postgres -c "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = '$NODE_NAME' AND a.usename = '$PG_USER' AND a.datname = '$PG_DB' AND a.client_addr = '127.0.0.1' AND s.ssl = $([ "$PG_TLS" = require ] && echo true || echo false)" 2>&1)
    [ "${sessions:-0}" -gt 0 ] 2>/dev/null || { fail 12 "no session (tls $PG_TLS) of $PG_USER with application_name $NODE_NAME in pg_stat_activity: $sessions"; return; }
    # The credential the service got is the password (compared, not printed), decrypted only in the unit's
    # credential directory; the encrypted file does not hold it in clear.
    if ! printf %s "$PG_PASSWORD" | ns cmp -s - /run/credentials/tenantsyncd.service/database-password; then
        fail 12 "/run/credentials/tenantsyncd.service/database-password is not the password"; return
    fi
    ns cat "$PASSWORD_CREDENTIAL" | free_of_password || { fail 12 "$PASSWORD_CREDENTIAL holds the password in clear"; return; }
    local credential_mode; credential_mode=$(ns stat -c '%a %U' /run/credentials/tenantsyncd.service/database-password)
    # Nowhere else: not the journal (the daemon's, the migration's, the manager's), not the unit's properties
    # (Environment= and the rest), not the daemon's environment, not the configuration.
    jctl -o cat | free_of_password || { fail 12 "the journal shows the database password"; return; }
    jctl -o json -u tenantsyncd.service | free_of_password || { fail 12 "a journal field of tenantsyncd shows the database password"; return; }
    sctl show tenantsyncd.service | free_of_password || { fail 12 "systemctl show tenantsyncd.service shows the database password"; return; }
    ns cat "/proc/$pid/environ" | tr '\0' '\n' | free_of_password || { fail 12 "the daemon's environment holds the password"; return; }
    ns cat /etc/tenantsync/tenantsyncd.toml "$DROPIN" | free_of_password || { fail 12 "the configuration or the drop-in holds the password"; return; }
    pass 12 "pg_stat_activity: $sessions session(s) (ssl $([ "$PG_TLS" = require ] && echo on || echo off)) of $PG_USER from 127.0.0.1 with application_name=$NODE_NAME (the node name; SCRAM needs the password); the service's credential database-password ($credential_mode) is the password; it is in no journal entry, not in systemctl show, the daemon's environment, the configuration or the drop-in"
}

# ---------------------------------------------------------------- step 13 ----
step13() {
    [ "$DAEMON_ON_PG" = yes ] || { fail 13 "no daemon on PostgreSQL (step 9)"; return; }
    [ "$(prop tenantsyncd.service ActiveState)" = active ] || { fail 13 "the service is not running before the outage"; return; }
    local restarts; restarts=$(prop tenantsyncd.service NRestarts)
    local pid; pid=$(prop tenantsyncd.service MainPID)
    local alerts_before; alerts_before=$(pgsql -d "$PG_DB" -c 'SELECT count(*) FROM alerts')
    local cursor; cursor=$(jctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
    local started=$SECONDS
    sctl stop "$PG_UNIT" || { fail 13 "systemctl stop $PG_UNIT failed"; return; }
    says_outage() { prop tenantsyncd.service StatusText | grep -q 'database not answering since'; }
    if ! wait_for 25 says_outage; then
        fail 13 "25 s after stopping PostgreSQL StatusText is '$(prop tenantsyncd.service StatusText)'"; sctl start "$PG_UNIT"; return
    fi
    local said=$((SECONDS - started))
    local outage_text; outage_text=$(prop tenantsyncd.service StatusText)
    local output; output=$(ctl status 2>&1); local status=$?
    if [ "$status" -ne 75 ] || ! grep -q 'not answering' <<<"$output"; then
        fail 13 "during the outage tenantsyncctl status exited $status: $(echo "$output" | head -n2 | tr '\n' ' ')"; sctl start "$PG_UNIT"; return
    fi
    local state="$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState) NRestarts=$(prop tenantsyncd.service NRestarts) pid=$(prop tenantsyncd.service MainPID)"
    if [ "$state" != "active/running NRestarts=$restarts pid=$pid" ]; then
        fail 13 "during the outage the unit is $state, was active/running NRestarts=$restarts pid=$pid"; sctl start "$PG_UNIT"; return
    fi
    local resumed_at=$SECONDS
    sctl start "$PG_UNIT" || { fail 13 "systemctl start $PG_UNIT failed"; return; }
    says_normal() { ! prop tenantsyncd.service StatusText | grep -q 'not answering' && ctl status; }
    if ! wait_for 25 says_normal; then
        fail 13 "25 s after PostgreSQL came back StatusText is '$(prop tenantsyncd.service StatusText)', status exits $(ctl status >/dev/null 2>&1; echo $?)"; return
    fi
    local back=$((SECONDS - resumed_at))
    state="$(prop tenantsyncd.service ActiveState)/$(prop tenantsyncd.service SubState) NRestarts=$(prop tenantsyncd.service NRestarts) pid=$(prop tenantsyncd.service MainPID)"
    [ "$state" = "active/running NRestarts=$restarts pid=$pid" ] || { fail 13 "after the outage the unit is $state, was active/running NRestarts=$restarts pid=$pid"; return; }
    local invalid; invalid=$(jctl --after-cursor "$cursor" MESSAGE_ID=$MESSAGE_ID_TOKEN_INVALID -o cat | grep -c .)
    local alerts_after; alerts_after=$(pgsql -d "$PG_DB" -c 'SELECT count(*) FROM alerts')
    [ "$invalid" = 0 ] && [ "$alerts_after" = "$alerts_before" ] || { fail 13 "the outage raised alerts: $invalid token-invalid journal entries, alerts $alerts_before -> $alerts_after"; return; }
    pass 13 "PostgreSQL stopped: after ${said}s StatusText=\"$outage_text\", tenantsyncctl status exit 75; unit stayed active (pid $pid, NRestarts=$restarts); started again: normal status after ${back}s (\"$(prop tenantsyncd.service StatusText)\"); no token-invalid entry, alerts unchanged ($alerts_after)"
}

# ---------------------------------------------------------------- step 14 ----
step14() {
    [ -n "$PG_URL" ] || { fail 14 "no PostgreSQL configuration (step 8)"; return; }
    WRONG_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=')
    write_password_credential "$WRONG_PASSWORD" || { fail 14 "systemd-creds encrypt failed"; return; }
    local cursor; cursor=$(jctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
    local restarts_before; restarts_before=$(prop tenantsyncd.service NRestarts)
    sctl restart tenantsyncd.service 2>/dev/null
    local restart_status=$?
    exited() { [ "$(prop tenantsyncd.service ExecMainCode)" = 1 ] && [ "$(prop tenantsyncd.service ExecMainStatus)" != 0 ]; }
    wait_for 20 exited
    local code; code=$(prop tenantsyncd.service ExecMainStatus)
    local line; line=$(jctl --after-cursor "$cursor" -u tenantsyncd.service -o cat | grep -m1 'cannot start')
    # A refused login is not retried (RestartPreventExitStatus=77): no restart within four RestartSec=2s.
    restarted() { [ "$(prop tenantsyncd.service NRestarts)" -gt "$restarts_before" ]; }
    local retried=no
    wait_for 8 restarted && retried=yes
    local restarts=$(($(prop tenantsyncd.service NRestarts) - restarts_before))
    # Back to the right password before judging, so that later steps find a running daemon.
    write_password_credential "$PG_PASSWORD"
    sctl reset-failed tenantsyncd.service 2>/dev/null
    sctl restart tenantsyncd.service 2>/dev/null
    local leaked=no
    jctl -o cat | grep -qF -- "$WRONG_PASSWORD" && leaked=yes
    sctl show tenantsyncd.service | grep -qF -- "$WRONG_PASSWORD" && leaked=yes
    [ "$leaked" = no ] || { fail 14 "the wrong password shows in the journal or systemctl show"; return; }
    [ "$restart_status" -ne 0 ] || { fail 14 "systemctl restart succeeded with a wrong password"; return; }
    [ "$code" = 77 ] || { fail 14 "with a wrong password the daemon exited $code, want 77: $(echo "$line" | redact)"; return; }
    [ "$retried" = no ] || { fail 14 "the unit restarted $restarts time(s) after a refused login (exit 77 is in RestartPreventExitStatus=)"; return; }
    grep -q "password authentication failed for user \"$PG_USER\"" <<<"$line" && grep -q "127.0.0.1:$PG_PORT" <<<"$line" \
        || { fail 14 "the journal line does not name the cause and HOST:PORT: '$(echo "$line" | redact)'"; return; }
    [ "$(prop tenantsyncd.service ActiveState)" = active ] || { fail 14 "with the right password again the service is $(prop tenantsyncd.service ActiveState)"; return; }
    pass 14 "wrong password credential: restart failed, exit $code, journal: '$line' (no password in it); no automatic restart within 8 s; right password again: active"
}
