package dev.normlab.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The one place where kernels get their threads.
 *
 * <p>The thread count comes from {@code NORMLAB_THREADS} (or the system property {@code
 * normlab.threads}), default all cores. Work is split into a fixed number of contiguous chunks that
 * depends only on the range and the thread count, never on timing, so that the same thread count
 * gives bitwise the same result.
 */
public final class Parallel {
  /** A body over a half-open index range {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /** A body over a half-open range that also knows which chunk (0..chunks-1) it is. */
  @FunctionalInterface
  public interface ChunkBody {
    void run(int chunk, int from, int to);
  }

  private static volatile int threads = initialThreads();
  private static volatile ForkJoinPool pool = newPool(threads);

  private Parallel() {}

  private static int initialThreads() {
    String s = System.getProperty("normlab.threads", System.getenv("NORMLAB_THREADS"));
    if (s != null && !s.isBlank()) {
      try {
        int n = Integer.parseInt(s.trim());
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException ignored) {
        // fall through to the default; a bad value must not stop a run
      }
      System.err.println("normlab: ignoring NORMLAB_THREADS=" + s + " (want a positive integer)");
    }
    return Runtime.getRuntime().availableProcessors();
  }

  private static ForkJoinPool newPool(int n) {
    return new ForkJoinPool(
        Math.max(1, n),
        p -> {
          var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
          t.setName("normlab-" + t.getPoolIndex());
          t.setDaemon(true);
          return t;
        },
        null,
        false);
  }

  /** The number of threads kernels split their work over. */
  public static int threads() {
    return threads;
  }

  /** Sets the number of threads (at least 1); used by tests and the CLI's {@code --threads}. */
  public static synchronized void setThreads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + n);
    }
    if (n != threads) {
      ForkJoinPool old = pool;
      pool = newPool(n);
      threads = n;
      old.shutdown();
    }
  }

  /**
   * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks,
   * none smaller than {@code grain} items. Runs inline when one chunk suffices.
   */
  public static void forRange(int n, int grain, RangeBody body) {
    forChunks(n, grain, (c, from, to) -> body.run(from, to));
  }

  /** Like {@link #forRange} but tells the body its chunk index, for per-chunk scratch buffers. */
  public static void forChunks(int n, int grain, ChunkBody body) {
    int chunks = chunks(n, grain);
    if (chunks <= 1) {
      if (n > 0) {
        body.run(0, 0, n);
      }
      return;
    }
    if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) {
      // Already on one of our workers (nested parallelism): run inline to avoid oversubscription.
      body.run(0, 0, n);
      return;
    }
    pool.invoke(
        new RecursiveAction() {
          @Override
          protected void compute() {
            ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
            for (int c = 1; c < chunks; c++) {
              final int cc = c;
              tasks[c - 1] =
                  ForkJoinTask.adapt(
                          () -> body.run(cc, start(n, chunks, cc), start(n, chunks, cc + 1)))
                      .fork();
            }
            body.run(0, 0, start(n, chunks, 1));
            for (int i = tasks.length - 1; i >= 0; i--) {
              tasks[i].join();
            }
          }
        });
  }

  /** The number of chunks {@link #forChunks} uses for {@code n} items and this grain. */
  public static int chunks(int n, int grain) {
    if (n <= 0) {
      return 0;
    }
    int byGrain = Math.max(1, n / Math.max(1, grain));
    return Math.min(threads, byGrain);
  }

  private static int start(int n, int chunks, int c) {
    return (int) ((long) n * c / chunks);
  }
}
