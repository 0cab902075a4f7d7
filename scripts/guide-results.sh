#!/usr/bin/env bash
# Runs `normlab compare` and draws the guide's figures from what it wrote (metrics.csv and the
# best checkpoints): <img>/<prefix>-curves.png, -parallel.png, -mistakes.png and -table.md.
#
#   bash scripts/guide-results.sh --dataset mnist --quick --threads 1          # ~8 min on 2 cores
#   bash scripts/guide-results.sh --dataset fashion-mnist --quick --threads 1
#   bash scripts/guide-results.sh --dataset mnist --epochs 10                 # full replication
#
# Options: --dataset D (mnist, fashion-mnist, kmnist), --quick (1 epoch on 12,000 images) or
# --epochs N, --threads T, --out DIR (default normlab-runs/guide), --img DIR (default docs/img),
# --figures-only (redraw from an earlier run without training).
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=mnist; quick=0; epochs=10; threads=""; out=normlab-runs/guide; img=docs/img; figures_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dataset) dataset="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --epochs) epochs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --img) img="$2"; shift 2 ;;
    --figures-only) figures_only=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "guide-results.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  run_flags=(--quick --limit-train 12000); tag=quick; label="$dataset, quick run (1 epoch, 12,000 images)"
else
  run_flags=(--epochs "$epochs"); tag="e$epochs"; label="$dataset, $epochs epochs"
fi
thread_flags=(); [ -n "$threads" ] && thread_flags=(--threads "$threads")
group="guide-$dataset-$tag"
if [ "$figures_only" = 0 ]; then
  # compare appends to metrics.csv: start the group afresh
  rm -rf "$out/results/$group" "$out/checkpoints/$group"-*
  ./normlab compare --dataset "$dataset" "${run_flags[@]}" "${thread_flags[@]}" --out "$out" --group "$group"
fi
. scripts/env.sh
./mvnw -q -B -ntp -DskipTests -pl normlab-examples -am package >&2
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS -Xmx2g \
  -cp "normlab-examples/target/classes:normlab-examples/target/lib/*" \
  dev.normlab.examples.figures.CompareFigures --out "$out" --group "$group" --dataset "$dataset" \
  --prefix "$dataset-$tag" --img "$img" --label "$label" "${thread_flags[@]}"
