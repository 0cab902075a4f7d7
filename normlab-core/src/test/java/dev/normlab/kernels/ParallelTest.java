package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ParallelTest {
  @Test
  void coversEveryIndexExactlyOnce() {
    for (int n : new int[] {0, 1, 2, 3, 17, 1000}) {
      int[] hits = new int[n];
      Parallel.forRange(
          n,
          1,
          (from, to) -> {
            for (int i = from; i < to; i++) {
              hits[i]++;
            }
          });
      int[] ones = new int[n];
      java.util.Arrays.fill(ones, 1);
      assertArrayEquals(ones, hits, "n=" + n);
    }
  }

  @Test
  void chunkIndicesAreDistinct() {
    AtomicInteger mask = new AtomicInteger();
    Parallel.forChunks(100, 1, (c, from, to) -> mask.accumulateAndGet(1 << c, (a, b) -> a | b));
    assertEquals((1 << Parallel.chunks(100, 1)) - 1, mask.get());
  }
}
