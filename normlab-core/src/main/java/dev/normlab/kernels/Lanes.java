package dev.normlab.kernels;

/**
 * Horizontal sums in a fixed order. {@code reduceLanes(ADD)} adds the lanes in one order when
 * interpreted and in another once the JIT intrinsic takes over — and when that happens depends on
 * timing — so kernels that must give bitwise the same result on every run sum lanes here instead.
 */
final class Lanes {
  private Lanes() {}

  /**
   * The lanes a vector was stored into ({@code v.intoArray(lanes, 0)}) added in lane order, in
   * double. It takes the array, not the vector: a helper with vector arguments that C2 does not
   * inline gets every vector boxed (Winograd's adjoint ran at a third of its speed that way).
   */
  static double sum(float[] lanes) {
    return sum(lanes, 0, lanes.length);
  }

  /** {@code lanes[from, from + n)} added in order, in double. */
  static double sum(float[] lanes, int from, int n) {
    double s = 0;
    for (int l = from; l < from + n; l++) {
      s += lanes[l];
    }
    return s;
  }
}
