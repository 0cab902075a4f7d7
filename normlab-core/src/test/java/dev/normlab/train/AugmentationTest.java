package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.tensor.Rng;
import org.junit.jupiter.api.Test;

class AugmentationTest {
  private static final MnistLike MNIST = MnistLike.MNIST;

  /** A 4x4 "image" of raw pixel values 1..16, row by row. */
  private static float[] image() {
    float[] px = new float[16];
    for (int i = 0; i < 16; i++) {
      px[i] = i + 1;
    }
    return px;
  }

  private static float norm(float raw) {
    float[] px = {raw};
    Transforms.standard(MNIST).apply(px, 0, 1, 1, new Rng(0));
    return px[0];
  }

  @Test
  void noneIsTheStandardTransformBitForBit() {
    float[] a = image(), b = image();
    Augmentation.NONE.trainTransform(MNIST).apply(a, 0, 4, 4, new Rng(1));
    Transforms.standard(MNIST).apply(b, 0, 4, 4, new Rng(1));
    assertArrayEquals(b, a);
  }

  @Test
  void cropShiftsTheRawImageWithBlackPaddingThenNormalizes() {
    for (long seed = 0; seed < 20; seed++) {
      float[] px = image();
      new Augmentation(1, 0).trainTransform(MNIST).apply(px, 0, 4, 4, new Rng(seed));
      // The same draws as the transform: the window's top-left corner in the padded image.
      Rng r = new Rng(seed);
      int dy = r.nextInt(3) - 1, dx = r.nextInt(3) - 1;
      for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 4; x++) {
          int sy = y + dy, sx = x + dx;
          float raw = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? sy * 4 + sx + 1 : 0;
          assertEquals(norm(raw), px[y * 4 + x], "seed " + seed + " at " + y + "," + x);
        }
      }
    }
  }

  @Test
  void flipMirrorsWithItsProbability() {
    float[] px = image();
    new Augmentation(0, 1).trainTransform(MNIST).apply(px, 0, 4, 4, new Rng(3));
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        assertEquals(norm(y * 4 + (3 - x) + 1), px[y * 4 + x]);
      }
    }
    int flipped = 0;
    Rng rng = new Rng(7);
    for (int i = 0; i < 1000; i++) {
      float[] p = image();
      new Augmentation(0, 0.25).trainTransform(MNIST).apply(p, 0, 4, 4, rng);
      flipped += p[0] == norm(4) ? 1 : 0;
    }
    assertEquals(250, flipped, 45); // binomial(1000, 0.25): sd 13.7
  }

  @Test
  void badValuesAreRefusedAndTheConfigRecordsThem() {
    assertEquals(
        "random-crop padding must be >= 0, got -1",
        assertThrows(IllegalArgumentException.class, () -> new Augmentation(-1, 0)).getMessage());
    assertEquals(
        "flip probability must be in [0, 1], got 1.5",
        assertThrows(IllegalArgumentException.class, () -> new Augmentation(0, 1.5)).getMessage());
    var m = TrainConfig.defaults("batch").withAugment(new Augmentation(2, 0.5)).toMap();
    assertEquals(2, m.get("random_crop"));
    assertEquals(0.5, m.get("hflip"));
    assertEquals(0, TrainConfig.defaults("batch").toMap().get("random_crop"));
    assertEquals(0.0, TrainConfig.defaults("batch").toMap().get("hflip"));
  }
}
