#!/usr/bin/env bash
# Training throughput of the reference CNN, normlab vs PyTorch, in one run with the same threads.
# usage: scripts/bench-train.sh [threads] [steps]   (needs python3-torch and libopenblas0-pthread)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
steps=${2:-60}
norms=${NORMS:-none,batch,instance,layer,group}
./normlab --help >/dev/null  # builds if needed
java_out=$(NORMLAB_THREADS=$threads ./normlab bench --norms "$norms" --steps "$steps" --warmup 15 --threads "$threads" 2>/dev/null)
torch_out=$(cd scripts/torch && OMP_NUM_THREADS=$threads /usr/bin/python3 train_reference.py --norms "$norms" \
  --steps $((steps + 15)) --threads "$threads" --data ../../../shared/datasets 2>/dev/null)
echo "$java_out"
echo "$torch_out"
echo
printf '%-10s %14s %14s %8s\n' norm "normlab img/s" "torch img/s" ratio
for n in ${norms//,/ }; do
  j=$(echo "$java_out" | sed -n "s/^java norm=$n .*images_per_s=\([0-9.]*\).*/\1/p")
  t=$(echo "$torch_out" | sed -n "s/^torch norm=$n .*images_per_s=\([0-9.]*\).*/\1/p")
  awk -v n="$n" -v j="$j" -v t="$t" 'BEGIN { printf "%-10s %14.1f %14.1f %7.2fx\n", n, j, t, j / t }'
done
