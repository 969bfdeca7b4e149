#!/usr/bin/env bash
# Khulan in the South Gobi: does the fenced Trans-Mongolian Railway cut the range, and what would
# fence openings change? Runs on the sample data in data/gobi (see data/SOURCES.md).
#
#   bash examples/khulan_gobi/run.sh [OUT_DIR]      (from the repository root)
#
# Set KULAN=/path/to/kulan to use an installed binary; otherwise it is built with cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-target/examples/khulan_gobi}
mkdir -p "$OUT"
if [ -z "${KULAN:-}" ]; then
  cargo build --release -q -p kulan-cli
  KULAN=target/release/kulan
fi
EX=examples/khulan_gobi
# An equal-area grid centred on the study area, 1 km cells; its north edge (about 46.9° N) lies
# north of Choir, so the railway runs across the whole grid down to the fenced border.
CRS="+proj=laea +lat_0=45 +lon_0=107 +datum=WGS84 +units=m +no_defs"
GRID=(--crs "$CRS" --extent=-600000,-320000,520000,200000 --cell 1000)

echo "== the permeability table the Gobi barriers resolve to (khulan)"
"$KULAN" model show --species khulan --barriers data/gobi/barriers.geojson $EX/railway_to_border.geojson --crs "$CRS" --cell 1000

echo "== resistance today"
"$KULAN" resistance --species khulan --barriers data/gobi/barriers.geojson $EX/railway_to_border.geojson "${GRID[@]}" \
  --out "$OUT/resistance_today.tif" --permeability-out "$OUT/permeability_today.tif"
"$KULAN" corridors --resistance "$OUT/resistance_today.tif" --cores $EX/cores.geojson \
  --truncate 50000 --out "$OUT/today"

echo "== with three fence openings on the railway"
"$KULAN" resistance --species khulan --barriers data/gobi/barriers.geojson $EX/railway_to_border.geojson \
  --crossings $EX/fence_openings.geojson "${GRID[@]}" --out "$OUT/resistance_openings.tif"
"$KULAN" corridors --resistance "$OUT/resistance_openings.tif" --cores $EX/cores.geojson \
  --truncate 50000 --out "$OUT/openings"

echo "== cost distance from core 1 with the openings"
"$KULAN" costdist --resistance "$OUT/resistance_openings.tif" --sources $EX/cores.geojson \
  --out "$OUT/costdist_openings.tif" --allocation "$OUT/allocation_openings.tif"
echo "outputs in $OUT"
