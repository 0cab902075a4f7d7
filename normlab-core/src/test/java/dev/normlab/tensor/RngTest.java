package dev.normlab.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.functional.F;
import dev.normlab.testing.KeyedFixtures;
import org.junit.jupiter.api.Test;

/**
 * Rng is PyTorch's CPU generator: the same seed gives PyTorch 1.13's numbers bit for bit (fixtures
 * from {@code scripts/fixtures/make_rng_fixtures.py}), and MT19937 itself gives the C++ standard's
 * values.
 */
class RngTest {
  private static final KeyedFixtures FIX = KeyedFixtures.load("/fixtures/rng/rng_fixtures.txt");

  @Test
  void wordsAreStdMt19937() {
    Rng seed0 = new Rng(0);
    assertEquals(2357136044L, seed0.nextInt() & 0xFFFFFFFFL);
    assertEquals(2546248239L, seed0.nextInt() & 0xFFFFFFFFL);
    Rng standard = new Rng(5489); // std::mt19937's default seed
    int w = 0;
    for (int i = 0; i < 10000; i++) {
      w = standard.nextInt();
    }
    assertEquals(4123659995L, w & 0xFFFFFFFFL, "the C++ standard's check: 10000th output");
  }

  @Test
  void floatAndDoubleUniformsArePyTorchs() {
    Rng r = new Rng(0);
    float[] want = FIX.floats("uniform_float_seed0");
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], r.nextFloat(), "uniform_ float, element " + i);
    }
    assertArrayEquals(
        FIX.floats("uniform_float_m3_5_seed9"), Tensor.uniform(new Rng(9), -3, 5, 700).data());
    r = new Rng(1);
    double[] wantD = FIX.doubles("uniform_double_seed1");
    for (int i = 0; i < wantD.length; i++) {
      assertEquals(wantD[i], r.nextDouble(), "uniform_ double, element " + i);
    }
    assertArrayEquals(
        FIX.floats("seed_2pow40_plus7_float"), Tensor.rand(new Rng((1L << 40) + 7), 8).data());
  }

  @Test
  void permutationsAndIntegersArePyTorchs() {
    assertArrayEquals(FIX.ints("randperm10_seed0"), new Rng(0).permutation(10));
    assertArrayEquals(FIX.ints("randperm1000_seed3"), new Rng(3).permutation(1000));
    Rng r = new Rng(4);
    int[] want = FIX.ints("randint0_10_seed4");
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], r.nextInt(10), "random_(0, 10), element " + i);
    }
  }

  @Test
  void bernoulliAndDropoutMasksArePyTorchs() {
    float[] mask = new float[1500];
    new Rng(0).bernoulli(mask, 0.75, 1f);
    assertArrayEquals(FIX.floats("bernoulli075_seed0"), mask);
    Rng r = new Rng(2);
    r.nextFloat(); // odd position: pairs straddle the 624-word blocks
    float[] odd = new float[1300];
    r.bernoulli(odd, 0.3, 1f);
    assertArrayEquals(FIX.floats("bernoulli03_after_one_seed2"), odd);
    float[] ones = new float[999];
    java.util.Arrays.fill(ones, 1f);
    Tensor y = F.dropout(Tensor.of(ones, 999), 0.5, true, new Rng(5));
    assertArrayEquals(FIX.floats("dropout05_ones_seed5"), y.data());
  }

  @Test
  void bulkBernoulliEqualsOneDrawAtATime() {
    for (int skip = 0; skip < 3; skip++) {
      Rng bulk = new Rng(11), single = new Rng(11);
      for (int i = 0; i < skip; i++) {
        bulk.nextInt();
        single.nextInt();
      }
      float[] got = new float[2000];
      bulk.bernoulli(got, 0.4, 2.5f);
      for (int i = 0; i < got.length; i++) {
        float want = single.nextDouble() < 0.4 ? 2.5f : 0f;
        assertEquals(want, got[i], "skip " + skip + ", element " + i);
      }
      assertEquals(single.nextInt(), bulk.nextInt(), "both at the same position afterwards");
    }
  }

  @Test
  void edgeProbabilitiesAreExact() {
    float[] m = new float[700];
    new Rng(1).bernoulli(m, 1.0, 1f);
    for (float v : m) {
      assertEquals(1f, v);
    }
    new Rng(1).bernoulli(m, 0.0, 1f);
    for (float v : m) {
      assertEquals(0f, v);
    }
    var e = assertThrows(IllegalArgumentException.class, () -> new Rng(1).bernoulli(m, 1.5, 1f));
    assertTrue(e.getMessage().contains("p=1.5"), e.getMessage());
  }

  @Test
  void savedStateContinuesTheSameSequence() {
    Rng r = new Rng(21);
    for (int i = 0; i < 1000; i++) {
      r.nextInt();
    }
    r.nextGaussian(); // leaves a spare normal behind
    long[] st = r.state();
    double[] want = new double[1500];
    for (int i = 0; i < want.length; i++) {
      want[i] = i % 3 == 0 ? r.nextGaussian() : r.nextDouble();
    }
    Rng back = new Rng(0);
    back.setState(st);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], i % 3 == 0 ? back.nextGaussian() : back.nextDouble(), "draw " + i);
    }
    var e = assertThrows(IllegalArgumentException.class, () -> back.setState(new long[6]));
    assertTrue(e.getMessage().contains("xoshiro"), e.getMessage());
  }
}
