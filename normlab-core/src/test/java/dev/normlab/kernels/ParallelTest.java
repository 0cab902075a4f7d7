package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void aFailingChunkThrowsInTheCallerAfterTheOthersFinish() {
    Parallel.setThreads(2);
    AtomicInteger finished = new AtomicInteger();
    for (int failing = 0; failing < 2; failing++) {
      int f = failing;
      finished.set(0);
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  Parallel.forChunks(
                      2,
                      1,
                      (c, from, to) -> {
                        if (c == f) {
                          throw new IllegalStateException("chunk " + c);
                        }
                        finished.incrementAndGet();
                      }));
      assertEquals("chunk " + f, e.getMessage());
      assertEquals(1, finished.get(), "the other chunk ran to its end before the throw");
    }
    // the team still works afterwards
    int[] hits = new int[10];
    Parallel.forRange(10, 1, (from, to) -> java.util.Arrays.fill(hits, from, to, 1));
    assertEquals(10, java.util.Arrays.stream(hits).sum());
  }

  @Test
  void aRegionInsideAChunkRunsInlineAsOneChunk() {
    Parallel.setThreads(2);
    int[] innerChunks = new int[2];
    Parallel.forChunks(
        2,
        1,
        (c, from, to) ->
            Parallel.forChunks(
                100, 1, (ic, f2, t2) -> innerChunks[c] = Math.max(innerChunks[c], ic + 1)));
    assertArrayEquals(new int[] {1, 1}, innerChunks);
  }

  @Test
  void chunksRunOnDifferentThreads() {
    Parallel.setThreads(2);
    Thread[] ran = new Thread[2];
    java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
    Parallel.forChunks(
        2,
        1,
        (c, from, to) -> {
          ran[c] = Thread.currentThread();
          both.countDown();
          try {
            // each chunk waits for the other: only true concurrency lets this finish
            assertTrue(both.await(10, java.util.concurrent.TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
    assertEquals(Thread.currentThread(), ran[0], "the caller runs chunk 0");
    assertNotEquals(ran[0], ran[1]);
  }

  @Test
  void callersOnSeveralThreadsEachGetTheirWholeRange() throws Exception {
    Parallel.setThreads(2);
    int callers = 4;
    long[] sums = new long[callers];
    Thread[] ts = new Thread[callers];
    for (int t = 0; t < callers; t++) {
      int id = t;
      ts[t] =
          new Thread(
              () -> {
                for (int rep = 0; rep < 200; rep++) {
                  java.util.concurrent.atomic.AtomicLong s =
                      new java.util.concurrent.atomic.AtomicLong();
                  Parallel.forRange(
                      1000,
                      1,
                      (from, to) -> {
                        long local = 0;
                        for (int i = from; i < to; i++) {
                          local += i;
                        }
                        s.addAndGet(local);
                      });
                  sums[id] += s.get();
                }
              });
      ts[t].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    for (long s : sums) {
      assertEquals(200L * 999 * 1000 / 2, s);
    }
  }

  @Test
  void changingTheThreadCountReplacesTheWorkers() {
    Parallel.setThreads(3);
    AtomicInteger mask = new AtomicInteger();
    Parallel.forChunks(300, 1, (c, from, to) -> mask.accumulateAndGet(1 << c, (a, b) -> a | b));
    assertEquals(0b111, mask.get());
    Parallel.setThreads(2);
    mask.set(0);
    Parallel.forChunks(300, 1, (c, from, to) -> mask.accumulateAndGet(1 << c, (a, b) -> a | b));
    assertEquals(0b11, mask.get());
  }

  @Test
  void changingTheThreadCountWhileRegionsRunNeitherHangsNorLosesWork() throws Exception {
    Parallel.setThreads(2);
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong covered = new java.util.concurrent.atomic.AtomicLong();
    Thread caller =
        new Thread(
            () -> {
              for (int rep = 0; rep < 2000; rep++) {
                Parallel.forRange(300, 1, (from, to) -> covered.addAndGet(to - from));
              }
              done.set(true);
            });
    caller.start();
    for (int i = 0; !done.get() && i < 200; i++) {
      Parallel.setThreads(2 + (i & 1)); // replaces the team under the caller's regions
    }
    caller.join(60_000);
    assertTrue(done.get(), "regions hung while the thread count changed");
    assertEquals(2000L * 300, covered.get());
    Parallel.setThreads(2);
  }
}
