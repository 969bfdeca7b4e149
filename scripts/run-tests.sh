#!/usr/bin/env bash
# Every test of the workspace, in release mode (the peer-oracle suites read ../shared when present).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
cargo test --workspace --locked --release "$@"
