#!/usr/bin/env bash
# Kernel benchmarks, normlab vs PyTorch 1.13, in one run with the same threads: SGEMM 1024^3 and
# conv2d forward+backward on the reference CNN's shapes. Each round runs normlab's process, then
# PyTorch's; a round's ratio pairs the two. Prints every round, then per case the median time of
# each side and the median of the rounds' ratios (this VM's speed drifts by 10-40% over minutes:
# one pair of processes is one sample of that drift, not a measurement), and SGEMM's GFLOP/s
# against the most a Vector API loop of FMAs reaches on these threads (KernelBench's FmaCeiling).
# usage: scripts/bench-kernels.sh [threads] [rounds]   (default 2 threads, 3 rounds; needs
#        python3-torch and libopenblas0-pthread)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
. scripts/env.sh
. scripts/stats.sh
. scripts/torch-env.sh
./mvnw -q -o -pl normlab-bench -am package -DskipTests >/dev/null
cases="sgemm_1024:ms conv1:total_ms conv2:total_ms"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
printf '%-6s %-12s %12s %12s %9s\n' round case "normlab ms" "torch ms" speed-up
for r in $(seq 1 "$rounds"); do
  # a fixed, pre-touched heap: a growing one hands the kernels' scratch arrays fresh pages, and
  # conv2's backward ran at 11-16 ms a call until its first young collection had let the next
  # arrays come from pages already touched, then 7-9 (2026-12-04)
  java_out=$(NORMLAB_THREADS=$threads "$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS \
    -Xms2g -Xmx2g -Xmn64m -XX:+AlwaysPreTouch \
    -cp "normlab-bench/target/classes:normlab-bench/target/lib/*" dev.normlab.bench.KernelBench 2>/dev/null)
  torch_out=$(OMP_NUM_THREADS=$threads /usr/bin/python3 scripts/torch/bench_kernels.py --threads "$threads")
  echo "$java_out" | sed -n 's/^sgemm_1024 .*gflops=\([0-9.]*\) fma_ceiling_gflops=\([0-9.]*\).*/ceiling \1 \2/p' >>"$rows"
  for c in $cases; do
    name=${c%%:*} key=${c#*:}
    j=$(echo "$java_out" | sed -n "s/^$name .*$key=\([0-9.]*\).*/\1/p")
    t=$(echo "$torch_out" | sed -n "s/^$name .*$key=\([0-9.]*\).*/\1/p")
    echo "$name $j $t" >>"$rows"
    awk -v r="$r" -v n="$name" -v j="$j" -v t="$t" \
      'BEGIN { printf "%-6s %-12s %12.3f %12.3f %8.2fx\n", r, n, j, t, t / j }'
  done
done
echo
printf '%-12s %12s %12s %14s   %s\n' case "normlab ms" "torch ms" "median ratio" "(medians of $rounds rounds)"
for c in $cases; do
  name=${c%%:*}
  j=$(awk -v n="$name" '$1 == n { print $2 }' "$rows" | median)
  t=$(awk -v n="$name" '$1 == n { print $3 }' "$rows" | median)
  q=$(awk -v n="$name" '$1 == n { print $3 / $2 }' "$rows" | median)
  awk -v n="$name" -v j="$j" -v t="$t" -v q="$q" 'BEGIN { printf "%-12s %12.3f %12.3f %13.2fx\n", n, j, t, q }'
done
g=$(awk '$1 == "ceiling" { print $2 }' "$rows" | median)
f=$(awk '$1 == "ceiling" { print $3 }' "$rows" | median)
awk -v g="$g" -v f="$f" 'BEGIN { printf "\nSGEMM %.1f GFLOP/s, %.0f%% of the FMA ceiling measured in the same processes (%.1f GFLOP/s: independent FMAs in registers on every thread; medians)\n", g, 100 * g / f, f }'
