#!/usr/bin/env bash
# The main job on the bundled sample data: the Gobi project (fenced Trans-Mongolian Railway,
# Mongolia–China border, main roads, khulan and Mongolian gazelle ranges; scenarios with the
# railway fence opened at three gaps and with a planned road) -> out/gobi/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
cargo build --release -q -p kulan-cli
target/release/kulan run data/gobi/project.toml --out out/gobi "$@"
echo "open out/gobi/report.html; per scenario: out/gobi/<scenario>/ (CSV, GeoPackage, GeoTIFF for QGIS)"
