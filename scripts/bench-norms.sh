#!/usr/bin/env bash
# Runs normlab's NormBench and its PyTorch twin (scripts/bench_norms_torch.py) with 2 threads each
# and prints one table with the speed-ups (PyTorch time / normlab time; > 1 means normlab is faster).
# Usage: scripts/bench-norms.sh [filter] [reps]    (reps: calls per case, the fastest counts; default
# 200 — with 20 the minimum is a noisy estimate on both sides; builds normlab-bench first unless NO_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
FILTER="${1:-}"
REPS="${2:-200}"
PY="${PYTHON:-/usr/bin/python3}"
if [ "${NO_BUILD:-0}" != 1 ]; then
  ./mvnw -B -q -o -pl normlab-bench -am package -DskipTests >/dev/null
fi
J=$(mktemp); T=$(mktemp)
trap 'rm -f "$J" "$T"' EXIT
# NormBench runs every call in a BufferScope, so outputs and the freed gradients are reused the
# way PyTorch's caching allocator reuses them; the fixed heap keeps the collector out of the way.
NORMLAB_THREADS=2 java $NORMLAB_JVM_FLAGS -Xms2g -Xmx2g -Xmn64m -XX:+AlwaysPreTouch \
  -cp "normlab-bench/target/lib/*:normlab-bench/target/classes" dev.normlab.bench.NormBench "$FILTER" "$REPS" 2>/dev/null >"$J"
"$PY" scripts/bench_norms_torch.py "$FILTER" "$REPS" >"$T"
echo "normlab: $(head -1 "$J")"
echo "pytorch: $(head -1 "$T")"
printf '%-22s %10s %10s %7s | %10s %10s %7s | %8s %8s %8s\n' case nl_fwd_ms pt_fwd_ms fwd_x nl_fb_ms pt_fb_ms fb_x nl_gbps fw/copy fw/cp_mt
join <(tail -n +2 "$J" | sort) <(tail -n +2 "$T" | sort) | while read -r name a b c d e f g h i; do
  nf=${a#fwd_ms=}; nb=${b#fwdbwd_ms=}; ng=${c#fwd_gbps=}; pc=${d#fwd_bw_vs_copy=}; pm=${e#vs_copy_mt=}
  pf=${f#fwd_ms=}; pb=${g#fwdbwd_ms=}
  awk -v n="$name" -v nf="$nf" -v pf="$pf" -v nb="$nb" -v pb="$pb" -v ng="$ng" -v pc="$pc" -v pm="$pm" \
    'BEGIN{printf "%-22s %10.3f %10.3f %6.2fx | %10.3f %10.3f %6.2fx | %8.2f %8s %8s\n", n, nf, pf, pf/nf, nb, pb, pb/nb, ng, pc, pm}'
done
