#!/usr/bin/env bash
# Fleet benchmark (issue 15): the real release tenantsyncd on 1,000 and 10,000 tenants (3 accounts, 4 grants with
# sealed tokens, 30 sync runs and 5 alerts per tenant), written through the store (SQLiteStore.seedFleet). Measures
# start-up to READY=1, `tenantsyncctl status` and `accounts --json` wall time, RSS, idle CPU over 60 s and one daily
# planning pass's SQL statements, and `GET /metrics` (scrape latency and size, idle CPU with a scrape every 15 s).
# Not a test.
#
#   bash Benchmarks/fleet.sh [--tenants 1000,10000] [--repetitions 9] [--idle-seconds 60] [--scrapes 5]
#                            [--seed-cache DIR] [--no-write]
#
# --seed-cache DIR keeps each size's seeded state in DIR/N (seeded there the first time) and copies it for each
# run: seeding 10,000 tenants takes minutes. The state is quiet for about ten hours after it was seeded (no token
# due, no daily sync due); reuse it within that time.
#
# Builds the main package's tenantsyncd, tenantsyncctl and tenantsync-emulator in release (what is measured) and
# the seeding tool, tenantsync-bench, in debug (it only writes the state; SQLite is C either way). Writes the
# table into BENCHMARKS.md (between the fleet-benchmark markers) unless --no-write.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WRITE=1
ARGS=()
case "${1:-}" in -h|--help) exec python3 Benchmarks/fleet.py --help ;; esac
for arg in "$@"; do
    if [ "$arg" = "--no-write" ]; then WRITE=0; else ARGS+=("$arg"); fi
done

echo "== building ==" >&2
for product in tenantsyncd tenantsyncctl tenantsync-emulator; do swift build -c release --product "$product" >&2; done
RELEASE="$(swift build -c release --show-bin-path)"
(cd Benchmarks && swift build --product tenantsync-bench >&2)
BENCH="$(cd Benchmarks && swift build --show-bin-path)/tenantsync-bench"

OUT_ARGS=()
[ "$WRITE" = 1 ] && OUT_ARGS=(--out "$ROOT/BENCHMARKS.md")
exec python3 Benchmarks/fleet.py --bench "$BENCH" --daemon "$RELEASE/tenantsyncd" --ctl "$RELEASE/tenantsyncctl" \
    --emulator "$RELEASE/tenantsync-emulator" --command "bash Benchmarks/fleet.sh${*:+ $*}" "${OUT_ARGS[@]}" "${ARGS[@]}"
