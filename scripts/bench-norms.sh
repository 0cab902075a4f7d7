#!/usr/bin/env bash
# Runs normlab's NormBench and its PyTorch twin (scripts/bench_norms_torch.py) with 2 threads each
# and prints one table with the speed-ups (PyTorch time / normlab time; > 1 means normlab is faster).
# Usage: scripts/bench-norms.sh [filter] [reps] [rounds]
#   reps: calls per case, the fastest counts; default 200 — with 20 the minimum is a noisy estimate
#   on both sides. rounds: default 1; with more, each round's table and then per case the medians
#   of the rounds' speed-ups. Each case runs in its own pair of processes, normlab's and then
#   PyTorch's, so that the two sides of a ratio are measured seconds apart, not minutes: this VM's
#   speed drifts by tens of percent between processes a minute apart. Builds normlab-bench first
#   unless NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/stats.sh
. scripts/torch-env.sh
FILTER="${1:-}"
REPS="${2:-200}"
ROUNDS="${3:-1}"
PY="${PYTHON:-/usr/bin/python3}"
if [ "${NO_BUILD:-0}" != 1 ]; then
  ./mvnw -B -q -o -pl normlab-bench -am package -DskipTests >/dev/null
fi
J=$(mktemp); T=$(mktemp); R=$(mktemp)
trap 'rm -f "$J" "$T" "$R"' EXIT
CP="normlab-bench/target/lib/*:normlab-bench/target/classes"
CASES=$(java $NORMLAB_JVM_FLAGS -cp "$CP" dev.normlab.bench.NormBench --list 2>/dev/null | grep -F -- "$FILTER" || true)
if [ -z "$CASES" ]; then
  echo "bench-norms: no case matches '$FILTER'" >&2
  exit 2
fi
for round in $(seq 1 "$ROUNDS"); do
  : >"$J"; : >"$T"
  for c in $CASES; do
    # NormBench runs every call in a BufferScope, so outputs and the freed gradients are reused
    # the way PyTorch's caching allocator reuses them; the fixed heap keeps the collector out of
    # the way. Each process's first line is its copy bandwidth; the first case's goes on top.
    NORMLAB_THREADS=2 java $NORMLAB_JVM_FLAGS -Xms2g -Xmx2g -Xmn64m -XX:+AlwaysPreTouch \
      -cp "$CP" dev.normlab.bench.NormBench "$c" "$REPS" 2>/dev/null | { [ -s "$J" ] && tail -n +2 || cat; } >>"$J"
    "$PY" scripts/bench_norms_torch.py "$c" "$REPS" | { [ -s "$T" ] && tail -n +2 || cat; } >>"$T"
  done
  [ "$ROUNDS" -gt 1 ] && echo "round $round"
  echo "normlab: $(head -1 "$J") (the first case's process)"
  echo "pytorch: $(head -1 "$T")"
  # floor = the forward+backward's bare memory traffic (TrafficFloor); nl/fl and pt/fl: each side's
  # forward+backward time over it (a 2x speed-up needs PyTorch at 2x normlab's share of the floor).
  # ffl = the forward's stream alone (read x, write y); pt/ffl under 2: no forward can be 2x PyTorch's.
  # 2p_ms = the least forward+backward in a row norm's two passes (TrafficFloor.twoPass: per row,
  # plain sums, then the output; "-" for Batch Norm); pt/2p under 2: no kernel of that form, whatever
  # its arithmetic, can be 2x PyTorch's here.
  # nl_kb = heap KB normlab allocated per timed call: tens are the tape's and the kernels' scratch;
  # several times a case's usual figure means vector code running boxed in that process (compiled
  # badly or late), and its times are not the kernel's (see NormBench.allocatedBytes)
  printf '%-22s %10s %10s %7s | %10s %10s %7s | %8s %6s %6s | %8s %6s %6s | %8s %6s %6s | %8s %8s %8s %7s\n' case nl_fwd_ms pt_fwd_ms fwd_x nl_fb_ms pt_fb_ms fb_x floor_ms nl/fl pt/fl 2p_ms nl/2p pt/2p ffl_ms nl/ffl pt/ffl nl_gbps fw/copy fw/cp_mt nl_kb
  join <(tail -n +2 "$J" | sort) <(tail -n +2 "$T" | sort) | while read -r name a b c d e fl ff al tp f g h; do
    nf=${a#fwd_ms=}; nb=${b#fwdbwd_ms=}; ng=${c#fwd_gbps=}; pc=${d#fwd_bw_vs_copy=}; pm=${e#vs_copy_mt=}
    fl=${fl#floor_fwdbwd_ms=}; ff=${ff#floor_fwd_ms=}; al=${al#alloc_kb_per_call=}; tp=${tp#twopass_fwdbwd_ms=}
    pf=${f#fwd_ms=}; pb=${g#fwdbwd_ms=}
    # the row; its two speed-ups and six floor multiples kept in $R for the medians ("-" where a
    # case has no two-pass floor)
    awk -v n="$name" -v nf="$nf" -v pf="$pf" -v nb="$nb" -v pb="$pb" -v fl="$fl" -v ff="$ff" -v tp="$tp" -v ng="$ng" -v pc="$pc" -v pm="$pm" -v al="$al" -v r="$R" \
      'BEGIN{if (tp > 0) { t2 = sprintf("%8.3f %6.2f %6.2f", tp, nb/tp, pb/tp); n2 = nb/tp; p2 = pb/tp }
             else { t2 = sprintf("%8s %6s %6s", "-", "-", "-"); n2 = "-"; p2 = "-" }
             printf "%-22s %10.3f %10.3f %6.2fx | %10.3f %10.3f %6.2fx | %8.3f %6.2f %6.2f | %s | %8.3f %6.2f %6.2f | %8.2f %8s %8s %7.1f\n", n, nf, pf, pf/nf, nb, pb, pb/nb, fl, nb/fl, pb/fl, t2, ff, nf/ff, pf/ff, ng, pc, pm, al
             print n, pf / nf, pb / nb, nb / fl, pb / fl, nf / ff, pf / ff, n2, p2 >> r}'
  done
done
if [ "$ROUNDS" -gt 1 ]; then
  echo
  printf '%-22s %12s %12s %8s %8s %8s %8s %8s %8s   %s\n' case "median fwd_x" "median fb_x" "nl/fl" "pt/fl" "nl/2p" "pt/2p" "nl/ffl" "pt/ffl" "(rounds: fwd_x / fb_x)"
  for name in $(awk '{ print $1 }' "$R" | sort -u); do
    fx=$(awk -v n="$name" '$1 == n { print $2 }' "$R" | median)
    bx=$(awk -v n="$name" '$1 == n { print $3 }' "$R" | median)
    nl=$(awk -v n="$name" '$1 == n { print $4 }' "$R" | median)
    pt=$(awk -v n="$name" '$1 == n { print $5 }' "$R" | median)
    nff=$(awk -v n="$name" '$1 == n { print $6 }' "$R" | median)
    pff=$(awk -v n="$name" '$1 == n { print $7 }' "$R" | median)
    if awk -v n="$name" '$1 == n && $8 == "-" { found = 1 } END { exit !found }' "$R"; then
      n2=-; p2=-
    else
      n2=$(awk -v n="$name" '$1 == n { print $8 }' "$R" | median)
      p2=$(awk -v n="$name" '$1 == n { print $9 }' "$R" | median)
    fi
    all=$(awk -v n="$name" '$1 == n { printf "%.2f/%.2f ", $2, $3 }' "$R")
    awk -v n="$name" -v f="$fx" -v b="$bx" -v nl="$nl" -v pt="$pt" -v n2="$n2" -v p2="$p2" -v nff="$nff" -v pff="$pff" -v all="$all" \
      'BEGIN { if (n2 == "-") { a = sprintf("%8s %8s", "-", "-") } else { a = sprintf("%8.2f %8.2f", n2, p2) }
               printf "%-22s %11.2fx %11.2fx %8.2f %8.2f %s %8.2f %8.2f   %s\n", n, f, b, nl, pt, a, nff, pff, all }'
  done
fi
