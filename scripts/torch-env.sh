# Sourced by the scripts that run PyTorch: gives its BLAS the best kernels this CPU can run, so
# that a comparison never flatters normlab.
# - Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than itself (Sapphire and Emerald Rapids
#   among them) and falls back to its SSE3 "Prescott" kernels: SGEMM 1024^3 at 35-44 GFLOP/s on two
#   threads instead of 188-193 with the AVX-512 ones (measured here). Then we name the core type it
#   should have picked.
# - An OPENBLAS_CORETYPE inherited from the environment is not trusted: this workplace's machines
#   set OPENBLAS_CORETYPE=Haswell (and OPENBLAS_L2_SIZE=512) for every process, which on an AVX-512
#   CPU halves OpenBLAS's SGEMM (Zen 5: 191-213 GFLOP/s against 350-407 with its own choice,
#   Cooperlake). We use what OpenBLAS picks by itself; NORMLAB_KEEP_OPENBLAS=1 keeps yours.
if [ "${NORMLAB_KEEP_OPENBLAS:-0}" != 1 ]; then
  inherited="${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:+ L2 ${OPENBLAS_L2_SIZE}}"
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
  openblas_core=$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch' 2>&1 | sed -n 's/^Core: //p' | head -1)
  if [ "$openblas_core" = Prescott ]; then
    if grep -qw avx512f /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=Haswell
    fi
  fi
  if [ -n "$inherited" ] || [ "$openblas_core" = Prescott ]; then
    echo "torch-env: OpenBLAS kernels ${OPENBLAS_CORETYPE:-$openblas_core} (picked: $openblas_core; inherited: ${inherited:-none})" >&2
  fi
  unset openblas_core inherited
fi
