package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector twist, tempering and Bernoulli test against one-word-at-a-time forms. */
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

  @Test
  void vectorBernoulliPairsEqualTheScalarForm() {
    SplittableRandom r = new SplittableRandom(4);
    int[] words = new int[MersenneTwister.N];
    long[] thresholds = {
      0, 1, 1L << 52, 3L << 51, (1L << 53) - 1, 1L << 53, 6755399441055744L + 12345
    };
    for (int trial = 0; trial < 20; trial++) {
      for (int i = 0; i < words.length; i++) {
        words[i] = trial == 0 ? (i % 2 == 0 ? 0x001FFFFF : -1) : r.nextInt();
      }
      for (long t : thresholds) {
        for (int from : new int[] {0, 1, 2, 37}) {
          float[] got = new float[400], want = new float[400];
          int n = MersenneTwister.bernoulliPairs(words, from, words.length, t, 1.5f, got, 3);
          int m = MersenneTwister.bernoulliPairsScalar(words, from, words.length, t, 1.5f, want, 3);
          assertEquals(m, n);
          assertArrayEquals(want, got, "threshold " + t + ", from " + from + ", trial " + trial);
        }
      }
    }
  }
}
