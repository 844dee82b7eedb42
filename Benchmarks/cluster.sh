#!/usr/bin/env bash
# Cluster benchmark (issue 17): 3 release tenantsyncd on one private PostgreSQL 15 against 1 release tenantsyncd on
# SQLite, with the same state (10,000 tenants, 30,000 delegated grants, every refresh token consented at the emulator
# in strict rotation). Measures, in one run: refreshes per second with every grant due at once (both sides),
# PostgreSQL statements per refresh and per idle second (pg_stat_statements), failover after SIGKILL of a node, RSS.
# Not a test. Needs root (PostgreSQL runs as Debian's `postgres` user) and Debian's postgresql-15.
#
#   bash Benchmarks/cluster.sh [--tenants 10000] [--grants 30000] [--idle-seconds 60] [--kill-after 3] [--keep] [--no-write]
#   bash Benchmarks/cluster.sh --tenants 1000 --grants 3000 --no-write      # a quick check (about 4 minutes)
#
# No seed cache: the refresh tokens exist only in the emulator that issued them, so every run consents its grants
# again (about two minutes for 30,000 on the development machine; not measured).
#
# Builds the main package's tenantsyncd, tenantsyncctl and tenantsync-emulator in release (what is measured) and the seeding tool,
# tenantsync-bench, in debug (it only writes the state). Writes the table into BENCHMARKS.md (between the
# cluster-benchmark markers) unless --no-write.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WRITE=1
ARGS=()
case "${1:-}" in -h|--help) exec python3 Benchmarks/cluster.py --help ;; esac
for arg in "$@"; do
    if [ "$arg" = "--no-write" ]; then WRITE=0; else ARGS+=("$arg"); fi
done

echo "== building ==" >&2
for product in tenantsyncd tenantsyncctl tenantsync-emulator; do swift build -c release --product "$product" >&2; done
RELEASE="$(swift build -c release --show-bin-path)"
(cd Benchmarks && swift build --product tenantsync-bench >&2)
BENCH="$(cd Benchmarks && swift build --show-bin-path)/tenantsync-bench"
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo '+changes')"

OUT_ARGS=()
[ "$WRITE" = 1 ] && OUT_ARGS=(--out "$ROOT/BENCHMARKS.md")
exec python3 Benchmarks/cluster.py --bench "$BENCH" --daemon "$RELEASE/tenantsyncd" --emulator "$RELEASE/tenantsync-emulator" --ctl "$RELEASE/tenantsyncctl" \
    --commit "$COMMIT" --command "bash Benchmarks/cluster.sh${*:+ $*}" "${OUT_ARGS[@]}" "${ARGS[@]}"
