#!/usr/bin/env bash
# Kernel benchmarks, normlab vs PyTorch 1.13, in one run with the same threads: SGEMM 1024^3 and
# conv2d forward+backward on the reference CNN's shapes. Prints both sides and the speed-up.
# usage: scripts/bench-kernels.sh [threads]   (needs python3-torch and libopenblas0-pthread)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
. scripts/env.sh
./mvnw -q -o -pl normlab-bench -am package -DskipTests >/dev/null
java_out=$(NORMLAB_THREADS=$threads "$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS \
  -cp "normlab-bench/target/classes:normlab-bench/target/lib/*" dev.normlab.bench.KernelBench 2>/dev/null)
torch_out=$(OMP_NUM_THREADS=$threads /usr/bin/python3 scripts/torch/bench_kernels.py --threads "$threads")
echo "$java_out"
echo "$torch_out"
echo
printf '%-12s %12s %12s %9s\n' case "normlab ms" "torch ms" speed-up
pair() { # name key
  j=$(echo "$java_out" | sed -n "s/^$1 .*$2=\([0-9.]*\).*/\1/p")
  t=$(echo "$torch_out" | sed -n "s/^$1 .*$2=\([0-9.]*\).*/\1/p")
  awk -v n="$1" -v j="$j" -v t="$t" 'BEGIN { printf "%-12s %12.3f %12.3f %8.2fx\n", n, j, t, t / j }'
}
pair sgemm_1024 ms
pair conv1 total_ms
pair conv2 total_ms
