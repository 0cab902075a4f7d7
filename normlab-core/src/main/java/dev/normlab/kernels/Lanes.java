package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Horizontal sums in a fixed order. {@code reduceLanes(ADD)} adds the lanes in one order when
 * interpreted and in another once the JIT intrinsic takes over — and when that happens depends on
 * timing — so kernels that must give bitwise the same result on every run sum lanes here instead.
 */
final class Lanes {
  private Lanes() {}

  /** The lanes of {@code v} added in lane order, in double; {@code tmp} holds one vector. */
  static double sum(FloatVector v, float[] tmp) {
    v.intoArray(tmp, 0);
    double s = 0;
    for (int i = 0; i < v.length(); i++) {
      s += tmp[i];
    }
    return s;
  }
}
