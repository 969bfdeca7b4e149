#!/usr/bin/env bash
# Times `kulan intersect` against the GeoPandas STRtree peer (peers.py intersect) on the bench
# vectors, one run each in a fresh process, and checks that pairs.csv and totals.csv agree at
# rtol 1e-9.
#
#   bash benches/intersect.sh [SIZES...]        default: S M
#
# Settings and requirements: benches/common.sh.
source "$(dirname "$0")/common.sh"   # B, PY, KULAN, PEERS, t
OUT=$B/out/intersect
mkdir -p "$OUT"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(S M)
for s in "${sizes[@]}"; do
  in=(--barriers "$B/data/barriers_$s.gpkg" --ranges "$B/data/ranges_$s.gpkg" --crs EPSG:32648)
  echo "== $s, load $(cut -d' ' -f1 /proc/loadavg)"
  echo -n "kulan, csv + gpkg with clipped geometry: "; t "$KULAN" intersect "${in[@]}" --out "$OUT/kulan_$s" 2>&1 | tail -1
  echo -n "kulan, csv + gpkg without geometry:      "; t "$KULAN" intersect "${in[@]}" --out "$OUT/kulan_${s}_nogeom" --no-geometry 2>&1 | tail -1
  echo -n "kulan, csv only (what the peer writes):  "; t "$KULAN" intersect "${in[@]}" --out "$OUT/kulan_${s}_csv" --formats csv 2>&1 | tail -1
  if [ "$s" != L ]; then
    echo -n "geopandas-strtree peer:                  "; t "$PY" "$PEERS" intersect --size "$s" 2>&1 | tail -1
    for f in pairs totals; do
      "$PY" "$PEERS" compare "$OUT/kulan_$s/$f.csv" "$OUT/geopandas-strtree_${s}_$f.csv" --rtol 1e-9 | tail -1 | cut -c1-400
    done
  fi
done
