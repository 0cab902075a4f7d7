package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * MT19937's block step (the "twist" of all 624 state words) and its output tempering, with the
 * Vector API. PyTorch's CPU generator is MT19937, and normlab draws the same 32-bit stream so that
 * a seed gives PyTorch's weights, permutations and dropout masks; dropout alone takes two words per
 * element (1.2 million per training step of the reference CNN), which is why this is a kernel.
 *
 * <p>The twist rewrites word k from words k and k+1 (not yet rewritten) and word k+397 (still old)
 * or, from k = 227 on, word k-227 (already rewritten): a vector of consecutive words that stays on
 * one side of position 227 can be rewritten at once. {@link #twistScalar}, {@link #temperScalar}
 * and {@link #bernoulliPairsScalar} are the one-word-at-a-time forms the tests hold these to.
 */
public final class MersenneTwister {
  /** Words of state. */
  public static final int N = 624;

  private static final int M = 397;
  private static final int MATRIX_A = 0x9908B0DF;
  private static final int UPPER = 0x80000000;
  private static final int LOWER = 0x7FFFFFFF;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

  /** Longs over the same bits as {@link #I}: one per pair of words. */
  private static final VectorSpecies<Long> L = VectorSpecies.of(long.class, I.vectorShape());

  /** As many float lanes as {@link #L} has (half the width). */
  private static final VectorSpecies<Float> F =
      VectorSpecies.of(float.class, VectorShape.forBitSize(I.vectorBitSize() / 2));

  private MersenneTwister() {}

  /** The state after {@code seed}, as {@code std::mt19937(seed)} and {@code at::mt19937(seed)}. */
  public static void seed(int[] state, long seed) {
    state[0] = (int) seed;
    for (int j = 1; j < N; j++) {
      int prev = state[j - 1];
      state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
    }
  }

  /** Advances the 624 words of {@code state} by one block. */
  public static void twist(int[] state) {
    int k = twistRange(state, 0, N - M, M);
    k = twistScalarRange(state, k, N - M, M);
    k = twistRange(state, k, N - 1, M - N);
    twistScalarRange(state, k, N - 1, M - N);
    state[N - 1] = state[M - 1] ^ mix(state[N - 1], state[0]);
  }

  /** Vector blocks of the twist over {@code [from, to)}; returns where they stopped. */
  private static int twistRange(int[] s, int from, int to, int offset) {
    int k = from;
    var upper = IntVector.broadcast(I, UPPER);
    var lower = IntVector.broadcast(I, LOWER);
    var matrix = IntVector.broadcast(I, MATRIX_A);
    for (; k + I.length() <= to; k += I.length()) {
      var y =
          IntVector.fromArray(I, s, k).and(upper).or(IntVector.fromArray(I, s, k + 1).and(lower));
      // the low bit spread over the word selects MATRIX_A without a compare
      var odd = y.lanewise(VectorOperators.LSHL, 31).lanewise(VectorOperators.ASHR, 31);
      IntVector.fromArray(I, s, k + offset)
          .lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 1))
          .lanewise(VectorOperators.XOR, odd.and(matrix))
          .intoArray(s, k);
    }
    return k;
  }

  private static int twistScalarRange(int[] s, int from, int to, int offset) {
    for (int k = from; k < to; k++) {
      s[k] = s[k + offset] ^ mix(s[k], s[k + 1]);
    }
    return to;
  }

  private static int mix(int u, int v) {
    int y = (u & UPPER) | (v & LOWER);
    return (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
  }

  /** The textbook twist, one word at a time. */
  public static void twistScalar(int[] s) {
    for (int k = 0; k < N; k++) {
      s[k] = s[(k + M) % N] ^ mix(s[k], s[(k + 1) % N]);
    }
  }

  /** {@code out[i] = temper(state[i])} for all 624 words: the block's outputs in order. */
  public static void temper(int[] state, int[] out) {
    int i = 0;
    for (; i < I.loopBound(N); i += I.length()) {
      var y = IntVector.fromArray(I, state, i);
      y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 11));
      y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHL, 7).and(0x9D2C5680));
      y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHL, 15).and(0xEFC60000));
      y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 18)).intoArray(out, i);
    }
    for (; i < N; i++) {
      out[i] = temper(state[i]);
    }
  }

  /** The tempering of one word. */
  public static int temper(int y) {
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9D2C5680;
    y ^= (y << 15) & 0xEFC60000;
    return y ^ (y >>> 18);
  }

  /** The textbook tempering, one word at a time. */
  public static void temperScalar(int[] state, int[] out) {
    for (int i = 0; i < N; i++) {
      out[i] = temper(state[i]);
    }
  }

  /**
   * PyTorch's Bernoulli draws from a block of outputs: for each pair {@code (hi, lo)} of words from
   * {@code words[from]} on, {@code out[o++] = u < p ? value : 0} with u the 53 low bits of {@code
   * hi:lo} over 2^53, written as the integer test {@code bits < threshold}, threshold = ceil(p *
   * 2^53). Returns how many elements it wrote ({@code (to - from) / 2}).
   */
  public static int bernoulliPairs(
      int[] words, int from, int to, long threshold, float value, float[] out, int o) {
    int n = (to - from) >> 1;
    int e = 0;
    // a word vector read as longs holds (odd << 32 | even): rotated by 32 it is (hi << 32 | lo)
    var limit = LongVector.broadcast(L, threshold);
    var low53 = LongVector.broadcast(L, (1L << 53) - 1);
    var ones = FloatVector.broadcast(F, value);
    var zeros = FloatVector.zero(F);
    for (; e + L.length() <= n; e += L.length()) {
      var bits =
          ((LongVector) IntVector.fromArray(I, words, from + 2 * e).reinterpretAsLongs())
              .lanewise(VectorOperators.ROL, 32)
              .and(low53);
      var keep = bits.compare(VectorOperators.LT, limit).cast(F);
      zeros.blend(ones, keep).intoArray(out, o + e);
    }
    return e + bernoulliPairsScalar(words, from + 2 * e, to, threshold, value, out, o + e);
  }

  /** {@link #bernoulliPairs} one element at a time. */
  public static int bernoulliPairsScalar(
      int[] words, int from, int to, long threshold, float value, float[] out, int o) {
    int n = (to - from) >> 1;
    for (int e = 0; e < n; e++) {
      int w = from + 2 * e;
      long bits = ((long) (words[w] & 0x1FFFFF) << 32) | (words[w + 1] & 0xFFFFFFFFL);
      out[o + e] = bits < threshold ? value : 0f;
    }
    return n;
  }
}
