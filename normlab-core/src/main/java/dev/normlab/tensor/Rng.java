package dev.normlab.tensor;

import dev.normlab.kernels.MersenneTwister;

/**
 * PyTorch's CPU generator: MT19937 seeded as {@code torch.manual_seed}, with PyTorch's ways of
 * turning its 32-bit words into floats, doubles, permutations and Bernoulli draws. The same seed
 * gives the same numbers as PyTorch 1.13 for {@code uniform_} (hence {@code kaiming_uniform_} and
 * the default Conv/Linear weights), {@code randperm}, {@code random_(0, n)} and dropout masks
 * ({@code bernoulli_}); the reference CNN built under seed 0 has PyTorch's initial weights bit for
 * bit. Normal draws use their own formula (the polar method), not PyTorch's. The whole state can be
 * saved and restored, so a resumed run continues the same sequence.
 */
public final class Rng {
  private static final Rng GLOBAL = new Rng(0);
  private static final int N = MersenneTwister.N;
  private static final long LOW53 = (1L << 53) - 1;

  private final int[] state = new int[N];

  /** The tempered outputs of the current block; {@code next == N} means none are left. */
  private final int[] words = new int[N];

  private int next;
  private double spareGaussian;
  private boolean hasSpare;

  public Rng(long seed) {
    seed(seed);
  }

  /** The process-wide default generator (seed it with {@link #manualSeed}). */
  public static Rng global() {
    return GLOBAL;
  }

  /** Seeds the default generator, like {@code torch.manual_seed}. */
  public static void manualSeed(long seed) {
    GLOBAL.seed(seed);
  }

  /** As {@code torch.Generator.manual_seed}: the low 32 bits seed MT19937. */
  public synchronized void seed(long seed) {
    MersenneTwister.seed(state, seed);
    next = N;
    hasSpare = false;
  }

  private void refill() {
    MersenneTwister.twist(state);
    MersenneTwister.temper(state, words);
    next = 0;
  }

  /** The next 32-bit word (PyTorch's {@code random()}). */
  public synchronized int nextInt() {
    if (next == N) {
      refill();
    }
    return words[next++];
  }

  /** Two words, the first as the high half (PyTorch's {@code random64()}). */
  public synchronized long nextLong() {
    long hi = nextInt();
    return (hi << 32) | (nextInt() & 0xFFFFFFFFL);
  }

  /** Uniform in [0, 1): the low 24 bits of one word over 2^24, as PyTorch's float uniform. */
  public float nextFloat() {
    return (nextInt() & 0xFFFFFF) * 0x1.0p-24f;
  }

  /** Uniform in [0, 1): the low 53 bits of two words over 2^53, as PyTorch's double uniform. */
  public double nextDouble() {
    return (nextLong() & LOW53) * 0x1.0p-53;
  }

  /**
   * A float uniform in [low, high) as PyTorch's {@code uniform_(low, high)} on a float tensor: the
   * bounds are rounded to float and the 24-bit uniform is scaled in double.
   */
  public float nextFloat(double low, double high) {
    float from = (float) low;
    float to = (float) high;
    double u = (nextInt() & 0xFFFFFF) * 0x1.0p-24;
    return (float) (u * (to - from) + from);
  }

  /** Integer in [0, bound) as PyTorch's {@code random_(0, bound)}: one word modulo bound. */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    return (int) Integer.remainderUnsigned(nextInt(), bound);
  }

  /** Standard normal (Marsaglia polar method). */
  public synchronized double nextGaussian() {
    if (hasSpare) {
      hasSpare = false;
      return spareGaussian;
    }
    double u, v, s;
    do {
      u = 2 * nextDouble() - 1;
      v = 2 * nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double m = Math.sqrt(-2 * Math.log(s) / s);
    spareGaussian = v * m;
    hasSpare = true;
    return u * m;
  }

  /** A permutation of {@code 0..n-1} as PyTorch's {@code randperm(n)} (n below 2^31). */
  public synchronized int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = 0; i < n - 1; i++) {
      int z = i + nextInt(n - i);
      int t = p[i];
      p[i] = p[z];
      p[z] = t;
    }
    return p;
  }

  /**
   * Fills {@code out} as PyTorch's {@code bernoulli_(p)} followed by a multiplication by {@code
   * value}: element i is {@code value} if its double uniform is below p, else 0; two words per
   * element, in order.
   */
  public synchronized void bernoulli(float[] out, double p, float value) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("bernoulli_ expects p to be in [0, 1], but got p=" + p);
    }
    // u = bits / 2^53 < p  <=>  bits < p * 2^53 (exact)  <=>  bits < ceil(p * 2^53)
    long threshold = (long) Math.ceil(p * 0x1.0p53);
    int o = 0;
    while (o < out.length) {
      if (N - next < 2) {
        out[o++] = (nextLong() & LOW53) < threshold ? value : 0f;
        continue;
      }
      int pairs = Math.min((N - next) >> 1, out.length - o);
      o += MersenneTwister.bernoulliPairs(words, next, next + 2 * pairs, threshold, value, out, o);
      next += 2 * pairs;
    }
  }

  /**
   * The full state, for checkpoints: 312 longs of MT19937 words, the position, the spare normal.
   */
  public synchronized long[] state() {
    long[] st = new long[N / 2 + 3];
    for (int i = 0; i < N / 2; i++) {
      st[i] = ((long) state[2 * i] << 32) | (state[2 * i + 1] & 0xFFFFFFFFL);
    }
    st[N / 2] = next;
    st[N / 2 + 1] = hasSpare ? 1 : 0;
    st[N / 2 + 2] = Double.doubleToRawLongBits(spareGaussian);
    return st;
  }

  public synchronized void setState(long[] st) {
    if (st.length != N / 2 + 3) {
      throw new IllegalArgumentException(
          "Rng state must have "
              + (N / 2 + 3)
              + " longs (MT19937), got "
              + st.length
              + (st.length == 6
                  ? " (saved by an older normlab, whose generator was xoshiro256**;"
                      + " that run cannot be resumed)"
                  : ""));
    }
    if (st[N / 2] < 0 || st[N / 2] > N) {
      throw new IllegalArgumentException("Rng state position " + st[N / 2] + " is outside 0.." + N);
    }
    for (int i = 0; i < N / 2; i++) {
      state[2 * i] = (int) (st[i] >>> 32);
      state[2 * i + 1] = (int) st[i];
    }
    next = (int) st[N / 2];
    MersenneTwister.temper(state, words);
    hasSpare = st[N / 2 + 1] != 0;
    spareGaussian = Double.longBitsToDouble(st[N / 2 + 2]);
  }
}
