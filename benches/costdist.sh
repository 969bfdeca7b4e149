#!/usr/bin/env bash
# Times `kulan costdist` against the scikit-image MCP_Geometric peer (peers.py costdist) on the
# bench rasters, one run each in a fresh process, and checks that the outputs agree.
#
#   bash benches/costdist.sh [SIZES...]        default: 2000 4000
#
# Settings and requirements: benches/common.sh.
source "$(dirname "$0")/common.sh"   # B, PY, KULAN, PEERS, t
OUT=$B/out/costdist
mkdir -p "$OUT"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2000 4000)
for n in "${sizes[@]}"; do
  for src in regions points; do
    echo "== $n² $src, load $(cut -d' ' -f1 /proc/loadavg)"
    echo -n "kulan (deflate):   "; t "$KULAN" costdist --resistance "$B/data/resistance_$n.tif" --sources "$B/data/cores_${src}_$n.tif" --out "$OUT/kulan_${n}_${src}.tif" 2>&1 | tail -1
    echo -n "kulan (no-compress): "; t "$KULAN" costdist --resistance "$B/data/resistance_$n.tif" --sources "$B/data/cores_${src}_$n.tif" --out "$OUT/kulan_${n}_${src}_nc.tif" --no-compress 2>&1 | tail -1
    echo -n "skimage peer:      "; t "$PY" "$PEERS" costdist --raster "$n" --sources "$src" 2>&1 | tail -1
    "$PY" "$PEERS" compare "$OUT/kulan_${n}_${src}.tif" "$OUT/skimage-mcp_${n}_${src}_8conn.tif" --rtol 1e-6 | tail -1
  done
done
