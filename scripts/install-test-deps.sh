#!/usr/bin/env bash
# Install the system packages the tests use, on Debian or Ubuntu:
#   chromium + chromium-driver  the browser tests (tests/browser) drive the demo page
#   redis-server                the hub's Redis backend tests start their own server
# The Rust toolchain (cargo) and Python 3.11+ with pip are expected to be there.
# Run as root, or with sudo available. Skips apt-get when every package is
# already installed.
set -euo pipefail

packages=(chromium chromium-driver redis-server)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present (${packages[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "error: apt-get not found; install these packages yourself: ${missing[*]}" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
