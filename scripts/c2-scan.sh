#!/usr/bin/env bash
# Shows what C2 made of normlab's vector kernels: runs a Java main with the methods matching a
# pattern printed as machine code, then lists their innermost vector loops that reload vectors from
# the stack (spills), and the Vector API calls C2 failed to intrinsify (those box every vector).
# A kernel whose loop spills can run several times slower on some call paths (see Gemm.micro).
# usage: scripts/c2-scan.sh 'dev.normlab.kernels.Winograd::*' dev.normlab.bench.KernelBench conv 300
#        (the run should last several seconds past warm-up: its last third is checked for boxing)
# needs: objdump (binutils) and a HotSpot disassembler: apt-get install -y libhsdis0-fcml binutils
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
pattern=$1
shift
hsdis=$(ls /usr/lib/x86_64-linux-gnu/libhsdis.so.0 2>/dev/null || true)
if [ -z "$hsdis" ] || ! command -v objdump >/dev/null; then
  echo "c2-scan: needs libhsdis0-fcml and binutils (apt-get install -y libhsdis0-fcml binutils)" >&2
  exit 1
fi
./mvnw -q -o -B -pl normlab-bench -am package -DskipTests >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$hsdis" "$work/hsdis-amd64.so"
cp="normlab-bench/target/classes:normlab-bench/target/lib/*"
flags="-XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=quiet"
LD_LIBRARY_PATH="$work" "$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS $flags \
  "-XX:CompileCommand=print,$pattern" -cp "$cp" "$@" >"$work/print.txt" 2>&1
echo "== innermost vector loops with stack reloads (instructions / vector ones / reloads)"
python3 scripts/c2_vector_loops.py "$work/print.txt"
# one more run prints the inlining decisions and records allocations for the boxing check below
"$JAVA_HOME/bin/java" $NORMLAB_JVM_FLAGS $flags -XX:+PrintCompilation -XX:+PrintInlining \
  "-XX:StartFlightRecording=filename=$work/run.jfr,settings=profile" \
  -cp "$cp" "$@" >"$work/inlining.txt" 2>&1
echo "== Vector API intrinsics C2 failed in normlab methods (method compiled at level 4)"
awk '/^ *[0-9]+ +[0-9]+ /{method=$0} /failed to inline \(intrinsic\)/{print method}' \
  "$work/inlining.txt" | awk '$3 == 4 || $4 == 4' | grep normlab | sort | uniq -c || echo "none"
# Vectors C2 could not keep in registers are boxed: an object per vector per operation, the kernel
# several times slower (Winograd's adjoint ran at a third of its speed when C2 hit its node-count
# cutoff and stopped inlining a store helper that took vectors). Allocation samples whose stack
# passes through the Vector API, in the last third of the run recorded above (BOXING_SKIP=0.65:
# after warm-up), show where.
"$JAVA_HOME/bin/jfr" print --events jdk.ObjectAllocationSample --stack-depth 12 "$work/run.jfr" >"$work/alloc.txt"
echo "== vectors boxed after warm-up (allocation samples by first normlab frame)"
python3 scripts/vector_boxing.py "$work/alloc.txt" "${BOXING_SKIP:-0.65}"
