#!/usr/bin/env bash
# Runs the whole test suite (the README's test command), after scripts/setup.sh has installed
# what it needs and this machine lacks (a JDK 25, Chromium and ChromeDriver). On a CPU with
# AVX-512 the kernel tests run a second time with the JVM held to AVX2 (-XX:UseAVX=2): the Vector
# API's preferred species is then 256 bits, so the 8-lane code paths (GEMM's 5x2 tile, laneDots'
# 4x2 blocks, their folds) are checked against their scalar references on this machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
./mvnw -B -ntp "$@" verify
if [ "$(uname -m)" = x86_64 ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "test.sh: the kernel tests again with 8-lane vectors (-XX:UseAVX=2)"
  ./mvnw -B -ntp "$@" -pl normlab-core surefire:test -Dtest.jvm.flags=-XX:UseAVX=2 \
    -Dtest='dev.normlab.kernels.*Test,dev.normlab.models.*Test,dev.normlab.tensor.RngTest'
fi
