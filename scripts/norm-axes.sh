#!/usr/bin/env bash
# Redraws docs/img/norm-axes.png (which axes of (N, C, H, W) each norm averages over) with
# dev.normlab.examples.figures.NormAxesFigure. Usage: bash scripts/norm-axes.sh [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./mvnw -q -B -ntp -DskipTests -pl normlab-examples -am package >&2
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS -cp "normlab-examples/target/classes:normlab-examples/target/lib/*" \
  dev.normlab.examples.figures.NormAxesFigure "${1:-docs/img/norm-axes.png}"
