# Sourced by the scripts that run PyTorch: gives its BLAS the kernels this CPU can run.
# Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than itself (Sapphire and Emerald Rapids
# among them) and falls back to its SSE3 "Prescott" kernels: SGEMM 1024^3 at 35-44 GFLOP/s on two
# threads instead of 188-193 with the AVX-512 ones (measured here). A comparison against that would
# flatter normlab, so when OpenBLAS reports Prescott on a CPU with AVX-512 (or AVX2) we name the
# core type it should have picked. An OPENBLAS_CORETYPE already set is left alone.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  openblas_core=$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch' 2>&1 | sed -n 's/^Core: //p' | head -1)
  if [ "$openblas_core" = Prescott ]; then
    if grep -qw avx512f /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo; then
      export OPENBLAS_CORETYPE=Haswell
    fi
    echo "torch-env: OpenBLAS picked Prescott on this CPU; using OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Prescott}" >&2
  fi
  unset openblas_core
fi
