package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * The vector width the kernels run with on this machine. Sums are split across lanes, so a run on
 * 8-float vectors (AVX2) and one on 16-float vectors (AVX-512) round differently: a run's record
 * names its width.
 */
public final class VectorWidth {
  private VectorWidth() {}

  /** The preferred float vector's size in bits: 256 with AVX2, 512 with AVX-512. */
  public static int bits() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize();
  }
}
