#!/usr/bin/env bash
# Seed-to-seed spread of the MNIST test accuracy after EPOCHS epochs (default 1), normlab against
# its PyTorch twin: the yardstick for "within 0.3 points of PyTorch" (one seed of each is one draw
# from each spread). Since both sides share PyTorch's generator, each seed is also a paired run.
# usage: [EPOCHS=10] [OPTS="--optimizer adam ..."] scripts/seed-spread.sh [norms] [seeds]
#   e.g. scripts/seed-spread.sh layer,group 0,1,2
# OPTS: optimizer and schedule options, given to both sides (the twin takes normlab train's names).
# (needs python3-torch and libopenblas0-pthread; about 3 minutes per norm, seed and epoch on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/torch-env.sh # PyTorch with the BLAS kernels of this CPU, as in the other twin runs
norms=${1:-layer,group}
seeds=${2:-0,1,2}
threads=${THREADS:-2}
epochs=${EPOCHS:-1}
data=${DATA:-../shared/datasets}
read -r -a opts <<<"${OPTS:-}"
./normlab --help >/dev/null # builds if needed
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for s in ${seeds//,/ }; do
  ./normlab compare --norms "$norms" --epochs "$epochs" --seed "$s" --threads "$threads" --no-track \
    --data-dir "$data" --out "$out/seed$s" "${opts[@]}" 2>/dev/null |
    sed -n "s/^\[\([a-z]*\)\] epoch $epochs: .*test acc \([0-9.]*\)%.*/normlab \1 $s \2/p" >>"$out/acc"
  (cd scripts/torch && OMP_NUM_THREADS=$threads /usr/bin/python3 train_reference.py --norms "$norms" \
    --epochs "$epochs" --seed "$s" --threads "$threads" --data "../../$data" "${opts[@]}" 2>/dev/null) |
    sed -n "s/^torch norm=\([a-z]*\) epoch=$epochs test_acc=\([0-9.]*\).*/torch \1 $s \2/p" >>"$out/acc"
done
printf '%-10s %-8s %-24s %8s %8s\n' norm side "test accuracy by seed" mean spread
for n in ${norms//,/ }; do
  for side in normlab torch; do
    awk -v n="$n" -v side="$side" '$1 == side && $2 == n {
        v[++k] = $4; list = list (k > 1 ? " " : "") $4; s += $4
        if (k == 1 || $4 < lo) lo = $4
        if (k == 1 || $4 > hi) hi = $4
      }
      END { if (k) printf "%-10s %-8s %-24s %8.2f %8.2f\n", n, side, list, s / k, hi - lo }' "$out/acc"
  done
done
