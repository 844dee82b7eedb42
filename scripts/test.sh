#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift build --build-tests
swift test --skip-build
# The end-to-end run under a real systemd needs root (CI runs as root).
if [ "$(id -u)" -eq 0 ]; then
    bash Tests/EndToEnd/systemd-e2e.sh
else
    echo "test.sh: the systemd end-to-end test needs root; run this script as root to include it" >&2
    exit 77
fi
