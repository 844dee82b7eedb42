#!/usr/bin/env bash
# The main job on the embedded default: builds if needed, then runs tenantsyncd
# with a local state directory until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift build --product tenantsyncd
bin=$(swift build --show-bin-path)
demo=.demo
mkdir -p "$demo/state"
cat > "$demo/tenantsyncd.toml" <<TOML
[daemon]
state_directory = "$PWD/$demo/state"
control_socket = "$PWD/$demo/control"
TOML
"$bin/tenantsyncd" --check-config --config "$demo/tenantsyncd.toml"
echo "demo: tenantsyncd runs with state in $demo/state; Ctrl-C stops it" >&2
exec "$bin/tenantsyncd" --config "$demo/tenantsyncd.toml"
