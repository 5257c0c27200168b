#!/usr/bin/env bash
# Install the Debian packages the product needs, only those missing.
# Usage: scripts/system-deps.sh [run|test]
set -euo pipefail
mode=${1:-run}
packages=(python3 python3-venv gdal-bin libsqlite3-mod-spatialite redis-server gettext)
if [ "$mode" = test ]; then
  packages+=(postgresql postgresql-15-postgis-3 chromium fonts-wqy-microhei)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
