#!/usr/bin/env bash
# kulan circuit (pairwise, 10 focal points) against the scipy-pyamg peer, back to back, then
# agreement of the resistance matrix and cumulative current map at rtol 1e-4.
# Usage: benches/circuit.sh SIZE CONNECT [PEER_TOL]   e.g. benches/circuit.sh 1000 4
# PEER_TOL (default the peer's 1e-6) runs the peer with a tighter CG tolerance, as a reference.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
N=${1:?size}
C=${2:?connect 4 or 8}
TOL=${3:-1e-6}
OUT=${OUT:-/tmp/kulan-circuit-bench}
mkdir -p "$OUT/peer/data"
ln -sfn "$B/data/resistance_$N.tif" "$OUT/peer/data/resistance_$N.tif"
ln -sfn "$B/data/cores_points_$N.tif" "$OUT/peer/data/cores_points_$N.tif"
uptime
KULAN_BENCH_DIR=$OUT/peer t "$PY" "$PEERS" circuit --raster "$N" --connect "$C" --tol "$TOL" --maxiter 5000 | tail -1
uptime
t "$KULAN" circuit --resistance "$B/data/resistance_$N.tif" --focal "$B/data/cores_points_$N.tif" \
    --connect "$C" --out "$OUT/kulan_${N}_${C}n"
P=$OUT/peer/out/circuit/scipy-pyamg_${N}_${C}n_avg-cond_points
"$PY" "$PEERS" compare "${P}_resistances.csv" "$OUT/kulan_${N}_${C}n_resistances.csv" --rtol 1e-4 | tail -1 | grep -o '"ok": [a-z]*'
"$PY" "$PEERS" compare "${P}_cum_curmap.tif" "$OUT/kulan_${N}_${C}n_cum_curmap.tif" --rtol 1e-4 | tail -1 \
    | grep -o '"cells_compared": [0-9]*\|"max_rel": [0-9.e-]*\|"n_exceed": [0-9]*\|"ok": [a-z]*' | tr '\n' ' '; echo
