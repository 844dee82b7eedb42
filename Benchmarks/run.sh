#!/usr/bin/env bash
# Directory sync benchmark (issue 9): tenantsync side by side with the official Microsoft Graph SDK
# for Python (peer A), a plain Python http.client + sqlite3 script (peer B) and the floor (a C reader
# that discards the pages), against the Microsoft 365 emulator on loopback with throttling DISABLED
# (the benchmark measures the clients, not Microsoft's published limits). Not a test.
#
#   bash Benchmarks/run.sh [--users N --groups N --big-users N --big-groups N --repetitions R
#                           --peer-a-repetitions R --memberships-per-user F --skip-big --only a,b
#                           --skip-tokens --skip-reason TEXT --no-write]
#
# Contenders left out with --only are named in the table with --skip-reason (never dropped silently).
#
# Defaults: 20,000 users / 2,000 groups / about 60,000 memberships side by side, tenantsync and the
# floor also at 100,000 / 10,000 / about 300,000; 3 repetitions; medians. Writes the table into
# BENCHMARKS.md (section between the directory-sync-benchmark markers) unless --no-write.
#
# Installs what it needs: a C compiler (apt: gcc) and, into Benchmarks/.venv, msgraph-sdk from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WRITE=1
ARGS=()
case "${1:-}" in -h|--help) exec python3 Benchmarks/bench.py --help ;; esac
for arg in "$@"; do
    if [ "$arg" = "--no-write" ]; then WRITE=0; else ARGS+=("$arg"); fi
done

command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc >/dev/null; }
PYTHON="${PYTHON:-python3}"
if [ ! -x Benchmarks/.venv/bin/python ] || ! Benchmarks/.venv/bin/python -c 'import msgraph' 2>/dev/null; then
    echo "== installing msgraph-sdk into Benchmarks/.venv ==" >&2
    "$PYTHON" -m venv Benchmarks/.venv
    Benchmarks/.venv/bin/pip install -q "msgraph-sdk==1.65.0"
fi

echo "== building (release) ==" >&2
(cd Benchmarks && swift build -c release --product tenantsync-bench >&2 && swift build -c release --product tenantsync-emulator >&2 \
    && swift build -c release --product tenantsyncd >&2)
BIN="$(cd Benchmarks && swift build -c release --show-bin-path)"
mkdir -p Benchmarks/.build
cc -O2 -pthread -o Benchmarks/.build/floor Benchmarks/floor/floor.c

OUT_ARGS=()
[ "$WRITE" = 1 ] && OUT_ARGS=(--out "$ROOT/BENCHMARKS.md")
COMMAND="bash Benchmarks/run.sh${*:+ $*}"
exec Benchmarks/.venv/bin/python Benchmarks/bench.py \
    --emulator "$BIN/tenantsync-emulator" --bench "$BIN/tenantsync-bench" --daemon "$BIN/tenantsyncd" --floor "$ROOT/Benchmarks/.build/floor" \
    --python "$ROOT/Benchmarks/.venv/bin/python" --command "$COMMAND" "${OUT_ARGS[@]}" "${ARGS[@]}"
