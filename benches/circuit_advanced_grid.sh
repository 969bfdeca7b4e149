#!/usr/bin/env bash
# Advanced mode on a large grid with the iterative (grid multigrid) solver, through
# `kulan circuitscape`. Usage: benches/circuit_advanced_grid.sh SIZE [SOLVER]
#   SIZE 2000 or 4000 uses $B/data/resistance_SIZE.tif; any other SIZE (e.g. 10000) is made
#   from resistance_4000.tif with `gdal_translate -outsize SIZE SIZE -r nearest`.
#   SOLVER: iterative (default), direct or auto.
# Four current sources (1, 2, 1, 0.5 A) and two resistive grounds (conductance 1) at fixed
# fractions of the extent; 8 neighbours, average conductance; current and voltage maps as GeoTIFF.
# Writes to ${OUT:-/tmp/kulan-circuit-big}. Heavy at 10000² (about 10^8 cells): run it under
# `flock /work/heavy.lock`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
N=${1:?size}
SOLVER=${2:-iterative}
OUT=${OUT:-/tmp/kulan-circuit-big}
mkdir -p "$OUT"
RES=$B/data/resistance_$N.tif
if [ ! -f "$RES" ]; then
    RES=$OUT/resistance_$N.tif
    [ -f "$RES" ] || gdal_translate -q -outsize "$N" "$N" -r nearest -co COMPRESS=DEFLATE -co TILED=YES \
        "$B/data/resistance_4000.tif" "$RES"
fi
# Cell centre (x y) of the cell at column and row fractions fx, fy.
read -r X0 DX Y0 DY < <(gdalinfo "$RES" | awk -F'[(,)]' '/^Origin/{x=$2; y=$3} /^Pixel Size/{dx=$2; dy=$3} END{print x, dx, y, dy}')
centre() { awk -v n="$N" -v fx="$1" -v fy="$2" -v x0="$X0" -v dx="$DX" -v y0="$Y0" -v dy="$DY" \
    'BEGIN{c=int(fx*n); r=int(fy*n); printf "%.6f %.6f\n", x0+(c+0.5)*dx, y0+(r+0.5)*dy}'; }
{
    echo "1 $(centre 0.25 0.25)"; echo "2 $(centre 0.75 0.25)"; echo "1 $(centre 0.5 0.8)"; echo "0.5 $(centre 0.12 0.9)"
} > "$OUT/sources_$N.txt"
{ echo "1 $(centre 0.9 0.9)"; echo "1 $(centre 0.03 0.03)"; } > "$OUT/grounds_$N.txt"
cat > "$OUT/advanced_$N.ini" <<EOF
[Circuitscape mode]
data_type = raster
scenario = advanced

[Habitat raster or graph]
habitat_file = $RES
habitat_map_is_resistances = True

[Connection scheme for raster habitat data]
connect_four_neighbors_only = False
connect_using_avg_resistances = False

[Options for advanced mode]
source_file = $OUT/sources_$N.txt
ground_file = $OUT/grounds_$N.txt
ground_file_is_resistances = False
use_unit_currents = False
use_direct_grounds = False
remove_src_or_gnd = keepall

[Output options]
output_file = $OUT/adv_${N}_$SOLVER.out
write_cur_maps = True
write_volt_maps = True
compress_grids = True
EOF
uptime
t "$KULAN" circuitscape "$OUT/advanced_$N.ini" --solver "$SOLVER" --tol 1e-6 --geotiff
