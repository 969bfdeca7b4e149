#!/usr/bin/env bash
# The main job on the bundled sample data: barriers of the Gobi study (fenced Trans-Mongolian
# Railway, Mongolia–China border, main roads) in khulan and Mongolian gazelle ranges -> out/gobi/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
cargo run --release -p kulan-cli -- intersect \
  --barriers data/gobi/barriers.geojson --ranges data/gobi/ranges.geojson --out out/gobi "$@"
echo "results: out/gobi/pairs.csv, out/gobi/totals.csv, out/gobi/intersections.gpkg (open in QGIS)"
