#!/usr/bin/env bash
# Installs what Kulan needs to build on Debian/Ubuntu, skipping whatever is already there.
# Sourced by scripts/run-sample.sh and scripts/run-tests.sh (so a freshly installed cargo is on
# their PATH). Needs root or sudo for apt. Safe to run again.
# KULAN_EXTRA_APT adds packages (run-tests.sh asks for chromium, which the report test drives).
set -euo pipefail

packages=(libgdal-dev libproj-dev pkg-config libclang-dev gdal-bin ${KULAN_EXTRA_APT:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "kulan: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "kulan: installing Rust with rustup" >&2
  command -v curl >/dev/null 2>&1 || { $SUDO apt-get update -qq; $SUDO apt-get install -y -qq curl ca-certificates >/dev/null; }
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
  export PATH="$HOME/.cargo/bin:$PATH"
fi
