package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Two-vector shuffles for the preferred float species (also made for any other) that split a pair
 * of vectors {@code a, b} (the receiver and the argument of {@code a.rearrange(shuffle, b)}) into
 * even and odd lanes, and zip them back. Kernels use them instead of gathers and scatters: AVX2 has
 * no scatter, C2 does not always intrinsify the gather, and the Vector API's fallback boxes every
 * vector.
 */
final class Interleave {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  /** a0 a2 a4 ... b0 b2 b4 ...: the even lanes of a, then of b. */
  static final VectorShuffle<Float> EVEN;

  /** a1 a3 a5 ... b1 b3 b5 ...: the odd lanes of a, then of b. */
  static final VectorShuffle<Float> ODD;

  /** a0 b0 a1 b1 ...: the low halves of a and b, interleaved (the inverse of EVEN and ODD). */
  static final VectorShuffle<Float> ZIP_LO;

  /** The high halves of a and b, interleaved. */
  static final VectorShuffle<Float> ZIP_HI;

  static {
    EVEN = even(S);
    ODD = odd(S);
    ZIP_LO = zipLo(S);
    ZIP_HI = zipHi(S);
  }

  /** {@link #ZIP_LO} for species {@code s}. */
  static VectorShuffle<Float> zipLo(VectorSpecies<Float> s) {
    return VectorShuffle.fromArray(s, zipLanes(s.length(), 0), 0);
  }

  /** {@link #ZIP_HI} for species {@code s}. */
  static VectorShuffle<Float> zipHi(VectorSpecies<Float> s) {
    return VectorShuffle.fromArray(s, zipLanes(s.length(), s.length() / 2), 0);
  }

  /** Lane i of l: lane first + i/2 of a (i even) or of b (i odd), as an index into the pair. */
  private static int[] zipLanes(int l, int first) {
    int[] lanes = new int[l];
    for (int i = 0; i < l; i++) {
      // a negative index picks lane (index + l) of the argument b
      lanes[i] = first + i / 2 - ((i & 1) == 0 ? 0 : l);
    }
    return lanes;
  }

  /** {@link #EVEN} for species {@code s}. */
  static VectorShuffle<Float> even(VectorSpecies<Float> s) {
    return VectorShuffle.fromArray(s, evenLanes(s.length(), 0), 0);
  }

  /** {@link #ODD} for species {@code s}. */
  static VectorShuffle<Float> odd(VectorSpecies<Float> s) {
    return VectorShuffle.fromArray(s, evenLanes(s.length(), 1), 0);
  }

  /** 2i + first for lane i of l, as an index into the pair (a, b). */
  private static int[] evenLanes(int l, int first) {
    int[] lanes = new int[l];
    for (int i = 0; i < l; i++) {
      // a negative index picks lane (index + l) of the argument b
      lanes[i] = (2 * i < l ? 2 * i : 2 * i - 2 * l) + first;
    }
    return lanes;
  }

  private Interleave() {}
}
