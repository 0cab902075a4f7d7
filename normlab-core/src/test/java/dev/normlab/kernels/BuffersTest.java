package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BuffersTest {
  @Test
  void buildPassesTheExportThatSkipsZeroing() {
    // The surefire argLine carries the same --add-exports as the launchers; without it every
    // output array would be zeroed and this fails.
    assertTrue(Buffers.skipsZeroing(), "jdk.internal.misc is not exported to normlab");
  }

  @Test
  void poisonedBuffersStartAsNaNSoUnwrittenElementsShow() {
    assertTrue(Boolean.getBoolean("normlab.poisonBuffers"), "the test suite runs poisoned");
    for (int n : new int[] {0, 1, 1023, 1024, 100_003}) {
      float[] a = Buffers.uninitialized(n);
      assertEquals(n, a.length);
      for (float v : a) {
        assertTrue(Float.isNaN(v));
      }
    }
  }

  @Test
  void zeroedArraysAreZeroEvenWhenTheyComeFromThePool() {
    BufferScope.clearPool();
    float[] used;
    try (var s = BufferScope.open()) {
      used = Buffers.uninitialized(5000);
      java.util.Arrays.fill(used, 7f);
    }
    try (var s = BufferScope.open()) {
      float[] z = Buffers.zeroed(5000);
      assertSame(used, z, "taken from the pool");
      for (float v : z) {
        assertEquals(0f, v);
      }
    } finally {
      BufferScope.clearPool();
    }
    for (float v : Buffers.zeroed(3000)) {
      assertEquals(0f, v); // outside a scope: a new array
    }
  }
}
