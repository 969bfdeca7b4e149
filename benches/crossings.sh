#!/usr/bin/env bash
# Times `kulan crossings` (BaBA) on 1 million synthetic GPS fixes against the bench's M barriers
# (50,000 lines, 1.5 M vertices), whole process, pinned to 2 cores.
#
#   bash benches/crossings.sh [N_FIXES]        default: 1000000
#
# The fixes are generated deterministically (crates/kulan-crossings/examples/gen_fixes.rs: 200
# correlated random walks, 2-h fixes with ±1 min jitter, EPSG:32648) into $KULAN_BENCH_DIR (default
# /tmp/kulan-bench), never into the repo. Needs barriers_M.gpkg from shared/bench/gen.py and a
# release build of kulan ($KULAN). KULAN_TIMINGS=1 prints the stages.
source "$(dirname "$0")/common.sh"   # B, KULAN, t
N=${1:-1000000}
FIXES=$B/data/fixes_$N.csv
OUT=$B/out/crossings
[ -f "$B/data/barriers_M.gpkg" ] || { echo "missing $B/data/barriers_M.gpkg: run shared/bench/gen.py barriers --size M" >&2; exit 1; }
[ -f "$FIXES" ] || cargo run --release -q -p kulan-crossings --example gen_fixes -- "$FIXES" "$N"
rm -rf "$OUT"
echo "== $N fixes × barriers_M, load $(cut -d' ' -f1 /proc/loadavg)"
KULAN_TIMINGS=1 t taskset -c 0,1 \
  "$KULAN" crossings --tracks "$FIXES" --barriers "$B/data/barriers_M.gpkg" --buffer 110 --round-fixes \
  --id-col id --time-col time --x-col x --y-col y --crs EPSG:32648 --out "$OUT" 2>&1 | grep -E '^\s*\[|wall|encounter events'
