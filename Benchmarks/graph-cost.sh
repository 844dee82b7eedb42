#!/usr/bin/env bash
# Graph-cost benchmark (issue 16): requests, resource units, 429s and wall time of tenantsync's full and delta
# sync against the emulator with 50 ms latency and Microsoft's budgets enforced, side by side with peer B
# (Benchmarks/peers/peer_plain.py). Not a test. See BENCHMARKS.md, "Graph cost".
#
#   bash Benchmarks/graph-cost.sh [--users N --groups N --memberships N --base-memberships N --latency-ms MS
#                                  --peer-timeout S --skip-peer --no-write]
#
# Uses the MAIN package's release binaries (tenantsyncd, tenantsyncctl, tenantsync-emulator; an incremental
# `swift build -c release` of each), not the Benchmarks/ package: the real daemon is the contender.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WRITE=1
ARGS=()
case "${1:-}" in -h|--help) exec python3 Benchmarks/graph_cost.py --help ;; esac
for arg in "$@"; do
    if [ "$arg" = "--no-write" ]; then WRITE=0; else ARGS+=("$arg"); fi
done
echo "== building (release, main package) ==" >&2
for product in tenantsyncd tenantsyncctl tenantsync-emulator; do
    swift build -c release --product "$product" >&2
done
BIN="$(swift build -c release --show-bin-path)"
OUT_ARGS=()
[ "$WRITE" = 1 ] && OUT_ARGS=(--out "$ROOT/BENCHMARKS.md")
COMMAND="bash Benchmarks/graph-cost.sh${*:+ $*}"
exec python3 Benchmarks/graph_cost.py --emulator "$BIN/tenantsync-emulator" --daemon "$BIN/tenantsyncd" --ctl "$BIN/tenantsyncctl" \
    --command "$COMMAND" "${OUT_ARGS[@]}" "${ARGS[@]}"
