#!/usr/bin/env bash
# Installs what building and testing tenantsync needs, only when missing.
# Debian 12: apt packages for the C libraries and the real test peers, PyPI
# packages for the peers that only PyPI has. Safe to run again.
set -euo pipefail

apt_packages=(libsqlite3-dev libsystemd-dev pkg-config python3-aiosmtpd openssl systemd util-linux procps make curl sqlite3 passwd bsdutils groff-base tinyproxy)
# The Debian package (make deb, Tests/EndToEnd/deb-e2e.sh): Debian's packaging tools and man.
apt_packages+=(dpkg-dev binutils patchelf lintian man-db init-system-helpers)
# prometheus: the real Prometheus server and promtool the metrics tests scrape with and check the shipped rules with.
apt_packages+=(prometheus)
# postgresql: the private PostgreSQL 15 server the PostgreSQL store's tests start (Tests/TestSupport/PostgreSQLServer.swift),
# and the cluster Tests/EndToEnd/systemd-e2e.sh creates with pg_createcluster (its ssl-cert makes the snakeoil certificate).
apt_packages+=(postgresql)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "ensure-deps: installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PyPI test peers, for the python3 on PATH (see NOTES: it is not Debian's).
pip_packages=("varlink==31.0.0")
for spec in "${pip_packages[@]}"; do
    name=${spec%%==*}
    python3 -c "import ${name}" 2>/dev/null || {
        echo "ensure-deps: pip installing ${spec}" >&2
        python3 -m pip install -q --disable-pip-version-check "${spec}"
    }
done

command -v swift >/dev/null || { echo "ensure-deps: swift is not on PATH (expected /opt/swift/usr/bin)" >&2; exit 69; }
