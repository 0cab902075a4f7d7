package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.Rng;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shifts' specs and their arithmetic, pixel by pixel against the formulas. */
class InputShiftTest {
  /** A 3x4 image in [0, 1] with black, white and grey pixels. */
  private static float[] image() {
    return new float[] {0f, 1f, 0.5f, 0.25f, 0.75f, 0f, 0f, 1f, 0.1f, 0.9f, 0.3f, 0.6f};
  }

  private static float[] shifted(String spec, float[] px, long seed) {
    float[] out = px.clone();
    InputShift.parse(spec).transform().apply(out, 0, 3, 4, new Rng(seed));
    return out;
  }

  @Test
  void specsRoundTripAndNameTheirKeys() {
    assertEquals(
        new InputShift(InputShift.Kind.BRIGHTNESS, 0.5), InputShift.parse("brightness=0.5"));
    assertEquals(new InputShift(InputShift.Kind.CONTRAST, 3), InputShift.parse(" Contrast = 3 "));
    assertEquals("contrast=3", InputShift.parse("contrast=3.0").spec());
    assertEquals("noise_0.25", InputShift.parse("noise=0.25").key());
    assertEquals("invert", InputShift.parse("invert").key());
    assertEquals(InputShift.CLEAN, InputShift.parse("clean"));
    assertEquals(
        List.of(InputShift.parse("invert"), InputShift.parse("brightness=0.2")),
        InputShift.parseList("invert,brightness=0.2,,invert"));
    assertEquals(
        InputShift.parseList("brightness=0.5,brightness=0.2,contrast=0.2,noise=0.5,invert"),
        InputShift.defaults());
  }

  @Test
  void badSpecsSayWhatIsWrong() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> InputShift.parse("blur=2"))
            .getMessage()
            .startsWith("unknown shift 'blur=2' (brightness=F, contrast=F, noise=SIGMA, invert"));
    assertEquals(
        "shift 'brightness': give brightness a value, e.g. brightness=0.5",
        assertThrows(IllegalArgumentException.class, () -> InputShift.parse("brightness"))
            .getMessage());
    assertEquals(
        "shift 'invert=1': invert takes no value",
        assertThrows(IllegalArgumentException.class, () -> InputShift.parse("invert=1"))
            .getMessage());
    assertEquals(
        "shift 'noise=x': x is not a number",
        assertThrows(IllegalArgumentException.class, () -> InputShift.parse("noise=x"))
            .getMessage());
    assertEquals(
        "contrast must be a finite number >= 0, got -1.0",
        assertThrows(IllegalArgumentException.class, () -> InputShift.parse("contrast=-1"))
            .getMessage());
  }

  @Test
  void brightnessScalesAndClips() {
    float[] x = image();
    float[] half = shifted("brightness=0.5", x, 0);
    float[] twice = shifted("brightness=2", x, 0);
    for (int i = 0; i < x.length; i++) {
      assertEquals(0.5f * x[i], half[i], 0f);
      assertEquals(Math.min(1f, 2f * x[i]), twice[i], 0f);
    }
  }

  @Test
  void contrastBlendsWithTheImagesOwnMeanAndClips() {
    float[] x = image();
    double sum = 0;
    for (float v : x) {
      sum += v;
    }
    double mean = sum / x.length;
    float[] low = shifted("contrast=0.2", x, 0);
    float[] high = shifted("contrast=3", x, 0);
    float[] grey = shifted("contrast=0", x, 0);
    for (int i = 0; i < x.length; i++) {
      assertEquals(0.2 * x[i] + 0.8 * mean, low[i], 1e-6);
      assertEquals(Math.min(1, Math.max(0, 3 * x[i] - 2 * mean)), high[i], 1e-6);
      assertEquals(mean, grey[i], 1e-6);
    }
    // an image that is not at offset 0 of its batch takes its own mean, not the array's
    float[] two = new float[24];
    System.arraycopy(x, 0, two, 12, 12);
    InputShift.parse("contrast=0.2").transform().apply(two, 12, 3, 4, new Rng(0));
    assertArrayEquals(low, java.util.Arrays.copyOfRange(two, 12, 24));
    assertEquals(0f, two[0]);
  }

  @Test
  void noiseIsSeededAndClippedAndInvertFlips() {
    float[] x = image();
    float[] a = shifted("noise=0.5", x, 7);
    assertArrayEquals(a, shifted("noise=0.5", x, 7), "the same generator draws the same noise");
    assertFalse(java.util.Arrays.equals(a, shifted("noise=0.5", x, 8)));
    Rng rng = new Rng(7);
    boolean moved = false;
    for (int i = 0; i < x.length; i++) {
      float expected = Math.min(1f, Math.max(0f, x[i] + 0.5f * (float) rng.nextGaussian()));
      assertEquals(expected, a[i], 0f);
      moved |= a[i] != x[i];
    }
    assertTrue(moved);
    float[] inv = shifted("invert", x, 0);
    for (int i = 0; i < x.length; i++) {
      assertEquals(1 - x[i], inv[i], 0f);
    }
    assertArrayEquals(x, shifted("clean", x, 0));
  }
}
