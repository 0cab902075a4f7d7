#!/usr/bin/env bash
# Training throughput of the reference CNN, normlab vs PyTorch, with the same threads.
# usage: scripts/bench-train.sh [threads] [steps] [rounds]   (needs python3-torch and libopenblas0-pthread)
# Each round runs, norm by norm, normlab and then PyTorch back to back, so that the two sides of a
# ratio see the same machine (a shared VM's speed drifts by tens of percent within minutes). Prints
# every pair and, per norm, the median ratio over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stats.sh
. scripts/torch-env.sh
threads=${1:-2}
steps=${2:-60}
rounds=${3:-3}
norms=${NORMS:-none,batch,instance,layer,group}
./normlab --help >/dev/null  # builds if needed
declare -A ratios
printf '%-6s %-10s %14s %14s %8s %8s\n' round norm "normlab img/s" "torch img/s" ratio warm-up
for r in $(seq 1 "$rounds"); do
  for n in ${norms//,/ }; do
    # normlab warms up until the JIT has settled (15 steps at least); the twin gets as many steps
    line=$(NORMLAB_THREADS=$threads ./normlab bench --norms "$n" --steps "$steps" --warmup 15 --threads "$threads" 2>/dev/null \
      | grep "^java norm=$n ")
    j=$(echo "$line" | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
    w=$(echo "$line" | sed -n 's/.*warmup_steps=\([0-9]*\).*/\1/p')
    t=$(cd scripts/torch && OMP_NUM_THREADS=$threads /usr/bin/python3 train_reference.py --norms "$n" \
      --steps $((steps + w)) --warmup "$w" --threads "$threads" --data ../../../shared/datasets 2>/dev/null \
      | sed -n "s/^torch norm=$n .*images_per_s=\([0-9.]*\).*/\1/p")
    x=$(awk -v j="$j" -v t="$t" 'BEGIN { printf "%.2f", j / t }')
    ratios[$n]="${ratios[$n]:-} $x"
    printf '%-6s %-10s %14.1f %14.1f %7sx %8s\n' "$r" "$n" "$j" "$t" "$x" "$w"
  done
done
echo
printf '%-10s %14s   %s\n' norm "median ratio" "all rounds"
for n in ${norms//,/ }; do
  # shellcheck disable=SC2086
  med=$(printf '%s\n' ${ratios[$n]} | median)
  printf '%-10s %13sx  %s\n' "$n" "$med" "${ratios[$n]}"
done
