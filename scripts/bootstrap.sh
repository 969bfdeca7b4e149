#!/usr/bin/env bash
# Installs what Kulan needs to build on Debian/Ubuntu, skipping whatever is already there.
# Run as root or with sudo available. Safe to run again.
set -euo pipefail

packages=(libgdal-dev libproj-dev pkg-config libclang-dev gdal-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "kulan: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "kulan: cargo not found. Install Rust (https://rustup.rs) and run this again." >&2
  exit 1
fi
