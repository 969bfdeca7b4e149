#!/usr/bin/env bash
# Times `kulan costdist` against the scikit-image MCP_Geometric peer (peers.py costdist) on the
# bench rasters, one run each in a fresh process, and checks that the outputs agree.
#
#   bash benches/costdist.sh [SIZES...]        default: 2000 4000
#
# Needs the bench data (shared/bench/gen.py) in $KULAN_BENCH_DIR (default /tmp/kulan-bench), the
# peer venv in $PEER_PY (default /tmp/kulan-venv/bin/python) and a release build of kulan ($KULAN).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${KULAN_BENCH_DIR:-/tmp/kulan-bench}
PY=${PEER_PY:-/tmp/kulan-venv/bin/python}
KULAN=${KULAN:-target/release/kulan}
PEERS=../shared/bench/peers.py
OUT=$B/out/costdist
mkdir -p "$OUT"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2000 4000)
t() { /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"; }
for n in "${sizes[@]}"; do
  for src in regions points; do
    echo "== $n² $src, load $(cut -d' ' -f1 /proc/loadavg)"
    echo -n "kulan (deflate):   "; t "$KULAN" costdist --resistance "$B/data/resistance_$n.tif" --sources "$B/data/cores_${src}_$n.tif" --out "$OUT/kulan_${n}_${src}.tif" 2>&1 | tail -1
    echo -n "kulan (no-compress): "; t "$KULAN" costdist --resistance "$B/data/resistance_$n.tif" --sources "$B/data/cores_${src}_$n.tif" --out "$OUT/kulan_${n}_${src}_nc.tif" --no-compress 2>&1 | tail -1
    echo -n "skimage peer:      "; t "$PY" "$PEERS" costdist --raster "$n" --sources "$src" 2>&1 | tail -1
    "$PY" "$PEERS" compare "$OUT/kulan_${n}_${src}.tif" "$OUT/skimage-mcp_${n}_${src}_8conn.tif" --rtol 1e-6 | tail -1
  done
done
