#!/usr/bin/env bash
# Times `kulan fragment` against the shapely/GEOS polygonize peer (peers.py meff) on the bench
# ranges and barriers, one run each in a fresh process, and checks that the outputs agree.
#
#   bash benches/fragment.sh [SIZES...]        default: S M   (L: kulan only; the peer times out)
#
# The peer clips every barrier to the range first and nodes afterwards, with floating-point clip
# points; `--clip-then-node` reproduces that (including the barrier ends it leaves dangling a
# fraction of a nanometre inside the border), `--cuts all` uses every barrier as the peer does,
# and `--crs EPSG:32648` keeps the data's own CRS. The default run (exact noding) is timed too.
#
# Settings and requirements: benches/common.sh.
source "$(dirname "$0")/common.sh"   # B, PY, KULAN, PEERS, t
OUT=$B/out/meff
mkdir -p "$OUT"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(S M)
for s in "${sizes[@]}"; do
  echo "== $s, load $(cut -d' ' -f1 /proc/loadavg)"
  common=(--barriers "$B/data/barriers_$s.gpkg" --units "$B/data/ranges_$s.gpkg" --crs EPSG:32648 --cuts all --procedure cut --no-patches)
  echo -n "kulan --clip-then-node: "; t "$KULAN" fragment "${common[@]}" --clip-then-node --out "$OUT/kulan_compat_$s" 2>&1 | tail -1
  echo -n "kulan (exact noding):   "; t "$KULAN" fragment "${common[@]}" --out "$OUT/kulan_exact_$s" 2>&1 | tail -1
  if [ "$s" != L ]; then
    echo -n "shapely peer:           "; t "$PY" "$PEERS" meff --size "$s" 2>&1 | tail -1
    "$PY" "$PEERS" compare "$OUT/kulan_compat_$s/meff.csv" "$OUT/shapely-polygonize_$s.csv" --rtol 1e-9 | tail -1
  fi
done
