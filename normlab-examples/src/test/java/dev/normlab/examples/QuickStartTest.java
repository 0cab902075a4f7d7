package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.normlab.tensor.Tensor;
import org.junit.jupiter.api.Test;

class QuickStartTest {
  @Test
  void everyPlaneHasMeanZeroAndVarianceOne() {
    Tensor y = QuickStart.run();
    assertArrayEquals(new int[] {8, 3, 32, 32}, y.shape());
    float[] d = y.data();
    int plane = 32 * 32;
    for (int p = 0; p < 8 * 3; p++) {
      double sum = 0, sq = 0;
      for (int i = 0; i < plane; i++) {
        sum += d[p * plane + i];
        sq += (double) d[p * plane + i] * d[p * plane + i];
      }
      double mean = sum / plane;
      assertEquals(0.0, mean, 1e-4, "mean of plane " + p);
      assertEquals(1.0, sq / plane - mean * mean, 1e-3, "variance of plane " + p);
    }
  }
}
