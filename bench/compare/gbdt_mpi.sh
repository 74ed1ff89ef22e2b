#!/usr/bin/env bash
# Distributed GBDT on one machine: 1, 2 and 4 MPI ranks train the same data with
# `orchard_gbdt train --distributed`; prints seconds per round and bytes sent per rank per round
# (counted by gbdt::Communicator), then the histogram exchange alone, three ways
# (gbdt_mpi_collectives.cpp: ordered reduce-scatter+allgather, MPI_Allreduce, and LightGBM's
# reduce-scatter by feature + allgather of the best split).
#
#   bench/compare/gbdt_mpi.sh [build-dir] [threads-per-rank]
# Needs a build configured with MPI (meson summary "mpi: True") and the orchard_gbdt example.
#
# More than one machine: the same command with a hostfile, e.g. hosts.txt
#   node1 slots=16
#   node2 slots=16
# and `mpirun --hostfile hosts.txt -np 2 --map-by node --bind-to none orchard_gbdt train
# --distributed --threads 16 --data /shared/train.tsv ...` (one rank per machine, OpenMP inside;
# password-less ssh between the nodes, the binary and the data at the same path on each node,
# or one file per rank with --data part-{rank}.tsv; on TCP add --mca btl_tcp_if_include <nic>).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
THREADS=${2:-1}
CLI=$BUILD/examples/gbdt/orchard_gbdt
DATA_DIR=${ORCHARD_DATA_DIR:-$ROOT/../shared/data}
# yield_when_idle: waiting ranks give up the core (fair on a shared or oversubscribed machine).
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -x "$CLI" ] || { echo "missing $CLI (build the examples with MPI)" >&2; exit 1; }
mpicxx -O2 -std=c++20 -I"$ROOT/include" "$ROOT/bench/compare/gbdt_mpi_collectives.cpp" -o "$WORK/collectives"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
echo "threads per rank: $THREADS; Open MPI $(mpirun --version | head -1 | awk '{print $NF}')"

# A larger synthetic set (seeded): 200000 x 28, label from a noisy nonlinear score.
python3 - "$WORK/synth.tsv" <<'PY'
import random, math, sys
rng = random.Random(1)
with open(sys.argv[1], "w") as f:
    for i in range(200000):
        x = [rng.gauss(0, 1) for _ in range(28)]
        s = 1.5 * x[0] - x[1] * x[1] + math.sin(2 * x[2]) + 0.5 * x[3] * x[4]
        y = 1 if rng.random() < 1 / (1 + math.exp(-2 * s)) else 0
        f.write(str(y) + "\t" + "\t".join("%.4f" % v for v in x) + "\n")
PY

run() {  # name data rounds extra-args...
  local name=$1 data=$2 rounds=$3; shift 3
  printf "\n%s (%s rounds, depthwise depth 6, 255 bins)\n" "$name" "$rounds"
  printf "%-6s %-10s %12s %22s %14s\n" ranks reduction "s/round" "KiB sent/rank/round" "collectives"
  for np in 1 2 4; do
    for red in ordered allreduce; do
      [ "$np" = 1 ] && [ "$red" = allreduce ] && continue
      out=$("${MPIRUN[@]}" -np "$np" "$CLI" train --distributed --quiet --data "$data" --label 0 \
        --objective binary --rounds "$rounds" --threads "$THREADS" --reduction "$red" \
        --model "$WORK/m_$np.json" "$@")
      echo "$out" | awk -v np="$np" -v red="$red" '/^per round:/ {
        printf "%-6s %-10s %12.4f %22.1f %14.0f\n", np, red, $3, $5 / 1024, $10 }'
    done
  done
  # Same model for 1, 2 and 4 ranks (structure; values to rounding)?
  python3 - "$WORK/m_1.json" "$WORK/m_2.json" "$WORK/m_4.json" <<'PY'
import json, sys
ms = [json.load(open(p)) for p in sys.argv[1:]]
def key(m): return [(t["feature"], t.get("bin")) for t in m["trees"]]
same = all(key(m) == key(ms[0]) for m in ms)
worst = max(abs(a - b) for m in ms[1:] for ta, tb in zip(ms[0]["trees"], m["trees"])
            for a, b in zip(ta["value"], tb["value"]))
print("trees identical in structure for 1/2/4 ranks: %s; largest leaf-value difference %.2e" % (same, worst))
PY
}

if [ -f "$DATA_DIR/lightgbm/binary.train" ]; then
  run "lightgbm/binary.train (7000 x 28)" "$DATA_DIR/lightgbm/binary.train" 30
fi
run "synthetic (200000 x 28)" "$WORK/synth.tsv" 10

printf "\nhistogram exchange per tree node (28 features x 257 bins x 3 doubles = 168.7 KiB)\n"
for np in 2 4; do
  "${MPIRUN[@]}" -np "$np" "$WORK/collectives" 28 257 2000
done
printf "\nLightGBM's data-parallel learner reduce-scatters each histogram by feature, (P-1)/P x H\n"
printf "per rank with 16-byte bins (gradient, hessian), and allgathers the best split; Orchard's\n"
printf "ordered sum sends 2 (P-1)/P x H with 24-byte bins (gradient, hessian, count): 3x the bytes\n"
printf "for the same histograms, in exchange for every rank holding the whole histogram.\n"
