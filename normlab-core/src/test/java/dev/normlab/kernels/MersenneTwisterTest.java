package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector twist and tempering against the textbook one-word-at-a-time forms. */
class MersenneTwisterTest {
  @Test
  void vectorTwistAndTemperingEqualTheScalarForms() {
    SplittableRandom r = new SplittableRandom(3);
    for (int trial = 0; trial < 50; trial++) {
      int[] a = new int[MersenneTwister.N];
      if (trial == 0) {
        MersenneTwister.seed(a, 5489);
      } else {
        for (int i = 0; i < a.length; i++) {
          a[i] = r.nextInt();
        }
      }
      int[] b = a.clone();
      for (int block = 0; block < 3; block++) {
        MersenneTwister.twist(a);
        MersenneTwister.twistScalar(b);
        assertArrayEquals(b, a, "state after block " + block + ", trial " + trial);
        int[] ta = new int[a.length], tb = new int[a.length];
        MersenneTwister.temper(a, ta);
        MersenneTwister.temperScalar(b, tb);
        assertArrayEquals(tb, ta, "outputs of block " + block + ", trial " + trial);
      }
    }
  }
}
