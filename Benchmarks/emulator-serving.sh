#!/usr/bin/env bash
# Emulator serving rate: builds tenantsync-emulator (release), starts it with one large tenant,
# reads every /users page at $top=999 over loopback with a plain Python http.client reader, and
# reports users/s and the emulator's peak RSS (VmHWM). Not a test: figures go to BENCHMARKS.md.
#
#   Benchmarks/emulator-serving.sh [USERS] [ROUNDS]     (defaults: 100000 users, 3 rounds)
#   MEMORY_USERS=200000 Benchmarks/emulator-serving.sh  (also measures peak RSS with 200,000 users)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-100000}"
ROUNDS="${2:-3}"
MEMORY_USERS="${MEMORY_USERS:-200000}"

swift build -c release --product tenantsync-emulator >&2
BIN="$(swift build -c release --show-bin-path)/tenantsync-emulator"

run_one() {
    local users="$1" rounds="$2"
    local out; out="$(mktemp)"
    "$BIN" --port 0 --tenants 1 --users "$users" --groups 20 --seed 7 >"$out" &
    local pid=$!
    trap 'kill "$pid" 2>/dev/null || true' RETURN
    for _ in $(seq 1 600); do [ -s "$out" ] && break; sleep 0.1; done
    local base; base="$(head -n1 "$out")"
    python3 - "$base" "$rounds" <<'PY'
import http.client, json, sys, time, urllib.parse
base, rounds = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()
status, body = call("GET", "/_emulator/tenants")
tenant = json.loads(body)[0]
call("PATCH", "/_emulator/tenants/%s/settings" % tenant["id"], json.dumps({"throttlingEnabled": False}),
     {"Content-Type": "application/json"})
form = "grant_type=client_credentials&client_id=5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b&client_secret=emulator-client-secret&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
status, body = call("POST", "/%s/oauth2/v2.0/token" % tenant["id"], form, {"Content-Type": "application/x-www-form-urlencoded"})
token = json.loads(body)["access_token"]
best = 0.0
for r in range(rounds):
    path, n, pages = "/v1.0/users?$top=999", 0, 0
    start = time.perf_counter()
    while path:
        status, body = call("GET", path, headers={"Authorization": "Bearer " + token})
        assert status == 200, (status, body[:200])
        page = json.loads(body)
        n += len(page["value"]); pages += 1
        nxt = page.get("@odata.nextLink")
        path = nxt[len(base):] if nxt else None
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    best = max(best, rate)
    print("round %d: %d users in %d pages, %.3f s, %.0f users/s" % (r + 1, n, pages, elapsed, rate))
print("best: %.0f users/s" % best)
PY
    echo "peak RSS (VmHWM) with $users users: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$out"
}

echo "== serving $USERS users at \$top=999 =="
run_one "$USERS" "$ROUNDS"
echo "== memory with $MEMORY_USERS users (one full read) =="
run_one "$MEMORY_USERS" 1
