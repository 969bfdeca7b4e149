# Settings and helpers shared by the benchmark scripts; sourced, not run.
# Needs the bench data (shared/bench/gen.py) in $KULAN_BENCH_DIR (default /tmp/kulan-bench), the
# peer venv in $PEER_PY (default /tmp/kulan-venv/bin/python) and a release build of kulan ($KULAN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${KULAN_BENCH_DIR:-/tmp/kulan-bench}
PY=${PEER_PY:-/tmp/kulan-venv/bin/python}
KULAN=${KULAN:-target/release/kulan}
PEERS=../shared/bench/peers.py
# Whole-process wall time, CPU time and peak memory of one command.
t() { /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"; }
