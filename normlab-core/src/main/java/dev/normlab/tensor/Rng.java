package dev.normlab.tensor;

/**
 * A seeded, splittable pseudo-random generator (xoshiro256** seeded by SplitMix64). Its whole state
 * can be saved and restored, so a resumed run continues the same random sequence.
 */
public final class Rng {
  private static final Rng GLOBAL = new Rng(0);

  private long s0, s1, s2, s3;
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

  public synchronized void seed(long seed) {
    long x = seed;
    s0 = splitMix(x += 0x9E3779B97F4A7C15L);
    s1 = splitMix(x += 0x9E3779B97F4A7C15L);
    s2 = splitMix(x += 0x9E3779B97F4A7C15L);
    s3 = splitMix(x += 0x9E3779B97F4A7C15L);
    hasSpare = false;
  }

  private static long splitMix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  public synchronized long nextLong() {
    long result = Long.rotateLeft(s1 * 5, 7) * 9;
    long t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = Long.rotateLeft(s3, 45);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits, as a float. */
  public float nextFloat() {
    return (nextLong() >>> 40) * 0x1.0p-24f;
  }

  /** Fills {@code out} with uniforms in [0, 1), the same values as repeated {@link #nextFloat}. */
  public synchronized void nextFloats(float[] out) {
    for (int i = 0; i < out.length; i++) {
      out[i] = (nextLong() >>> 40) * 0x1.0p-24f;
    }
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform integer in [0, bound). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    // Lemire's multiply-shift with rejection: unbiased.
    long m = (nextLong() >>> 32) * bound;
    long low = m & 0xFFFFFFFFL;
    if (low < bound) {
      long threshold = (0x100000000L - bound) % bound;
      while (low < threshold) {
        m = (nextLong() >>> 32) * bound;
        low = m & 0xFFFFFFFFL;
      }
    }
    return (int) (m >>> 32);
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

  /** Fisher–Yates permutation of {@code 0..n-1}. */
  public int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The full state, for checkpoints. */
  public synchronized long[] state() {
    return new long[] {s0, s1, s2, s3, hasSpare ? 1 : 0, Double.doubleToRawLongBits(spareGaussian)};
  }

  public synchronized void setState(long[] st) {
    if (st.length != 6) {
      throw new IllegalArgumentException("Rng state must have 6 longs, got " + st.length);
    }
    s0 = st[0];
    s1 = st[1];
    s2 = st[2];
    s3 = st[3];
    hasSpare = st[4] != 0;
    spareGaussian = Double.longBitsToDouble(st[5]);
  }
}
