#!/usr/bin/env bash
# The demo: the emulator with a demo tenant, tenantsyncd against it (state in .demo/),
# every service provisioned (the script approves the consents through the emulator's
# admin API, as an administrator would), the first syncs, the status table; then it
# keeps running with the control socket open until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift build --product tenantsyncd
swift build --product tenantsyncctl
swift build --product tenantsync-emulator
bin=$(swift build --show-bin-path)
demo="$PWD/.demo"
rm -rf "$demo"
mkdir -p "$demo/state"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The emulator: one demo tenant with a few thousand users and nested groups.
"$bin/tenantsync-emulator" --tenants 1 --users 3000 --groups 60 --seed 42 >"$demo/emulator.out" 2>"$demo/emulator.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$demo/emulator.out" ] && break; sleep 0.1; done
base=$(head -n1 "$demo/emulator.out")
[ -n "$base" ] || { echo "demo: the emulator did not start; see $demo/emulator.log" >&2; exit 1; }
tenant=$(curl -fsS "$base/_emulator/tenants" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["domain"])')
# Poll device codes every second instead of five (the demo is interactive).
curl -fsS -X PATCH -H 'Content-Type: application/json' -d '{"deviceCodeIntervalSeconds": 1}' \
    "$base/_emulator/tenants/$tenant/settings" >/dev/null
echo "demo: emulator at $base with tenant $tenant" >&2

printf 'emulator-client-secret' >"$demo/client-secret"
chmod 600 "$demo/client-secret"
cat >"$demo/tenantsyncd.toml" <<TOML
[daemon]
state_directory = "$demo/state"
control_socket = "$demo/control"

[microsoft]
authority = "$base"
graph = "$base"
outlook = "$base/outlook"
management = "$base/manage"
client_secret_file = "$demo/client-secret"
TOML
"$bin/tenantsyncd" --check-config --config "$demo/tenantsyncd.toml"
"$bin/tenantsyncd" --config "$demo/tenantsyncd.toml" 2>"$demo/tenantsyncd.log" &
pids+=($!)
export TENANTSYNC_SOCKET="$demo/control"
for _ in $(seq 100); do [ -S "$demo/control" ] && "$bin/tenantsyncctl" status >/dev/null 2>&1 && break; sleep 0.1; done

# The administrator: approves the next N device codes of the tenant, as they appear.
approve() {
    for _ in $(seq "$1"); do
        curl -fsS -X POST "$base/_emulator/tenants/$tenant/device-codes/approve-next?wait=30" >/dev/null
    done
}
provision() {
    local consents=$1; shift
    approve "$consents" &
    local approver=$!
    "$bin/tenantsyncctl" provision "$@" --tenant "$tenant" --device-code
    wait "$approver"
}

# The customer's own Teams app, and the Exchange Administrator role for Inline Mode.
curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"appId":"0c7b9a52-4f2e-4d3a-9b1c-2e3f4a5b6c7d","displayName":"Teams protection","secret":"demo-teams-secret","consented":true,"graphPermissions":["Chat.Read.All","Chat.UpdatePolicyViolation.All","Files.ReadWrite.All","Group.Read.All","User.Read.All"]}' \
    "$base/_emulator/tenants/$tenant/apps" >/dev/null
curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"appId":"5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b","kind":"active"}' "$base/_emulator/tenants/$tenant/roles" >/dev/null
printf 'demo-teams-secret' >"$demo/teams-secret"
chmod 600 "$demo/teams-secret"

provision 2 exchange-online --scope all
provision 1 sharepoint-online --scope all --confirm-app-principal
provision 1 onedrive --scope all --confirm-app-principal
provision 0 teams-chat --app-id 0c7b9a52-4f2e-4d3a-9b1c-2e3f4a5b6c7d --secret-file "$demo/teams-secret" --licensing-model A
provision 2 exchange-online-inline
# Inline Mode's optional permission to read activity data: one more consent.
inline_id=$("$bin/tenantsyncctl" --json accounts | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin)["accounts"] if a["service"] == "exchange-online-inline"][0])')
approve 1 &
"$bin/tenantsyncctl" grant-activity-data "$inline_id" --device-code
wait $!

echo
"$bin/tenantsyncctl" status
echo
"$bin/tenantsyncctl" accounts
echo
echo "demo: running; from another terminal: TENANTSYNC_SOCKET=$demo/control $bin/tenantsyncctl status" >&2
echo "demo: Ctrl-C stops the daemon and the emulator" >&2
wait "${pids[1]}"
