#!/usr/bin/env bash
# Every test of the workspace, in release mode (the peer-oracle suites read ../shared when present).
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium opens report.html in tests/report_chromium.rs (it skips when absent).
KULAN_EXTRA_APT="chromium" source scripts/bootstrap.sh
cargo test --workspace --locked --release "$@"
