#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift build --build-tests
# The peer-credential tests create system users and a group named tenantsync-test-*
# (they need a real non-root caller); remove them again however the run ends.
remove_test_accounts() {
    for user in tenantsync-test-nobody tenantsync-test-member; do
        if id -u "$user" >/dev/null 2>&1; then userdel "$user" 2>/dev/null || true; fi
    done
    for group in tenantsync-test-ctl tenantsync-test-nobody tenantsync-test-member; do
        if getent group "$group" >/dev/null; then groupdel "$group" 2>/dev/null || true; fi
    done
}
if [ "$(id -u)" -eq 0 ]; then trap remove_test_accounts EXIT; fi
# Four runs of the one test build, each of a group of tests. The whole suite in one process (580 tests,
# swift-testing running suites in parallel, several of them starting real daemons and a PostgreSQL pool each) has
# stalled here with every task suspended; each group alone finishes. The cluster tests (three daemons each, on
# a PostgreSQL server of their process) run alone: beside the rest of the daemon tests their waits were measured
# by the load of the others, not by the daemons.
swift test --skip-build --filter "TenantSyncDaemonTests" --skip "ClusterDaemonTests"
swift test --skip-build --filter "ClusterDaemonTests"
swift test --skip-build --filter "TenantSyncMetricsTests|TenantSyncCoreTests|TenantSyncConfigTests|StoreConformanceTests"
swift test --skip-build --skip "TenantSyncDaemonTests|TenantSyncMetricsTests|TenantSyncCoreTests|TenantSyncConfigTests|StoreConformanceTests"
# The end-to-end run under a real systemd needs root (CI runs as root).
if [ "$(id -u)" -eq 0 ]; then
    bash Tests/EndToEnd/systemd-e2e.sh
    # The Debian package: built from the same debug build, installed, upgraded and purged under systemd.
    bash Tests/EndToEnd/deb-e2e.sh
else
    echo "test.sh: the systemd and package end-to-end tests need root; run this script as root to include them" >&2
    exit 77
fi
