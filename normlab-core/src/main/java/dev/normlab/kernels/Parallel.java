package dev.normlab.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one place where kernels get their threads.
 *
 * <p>The thread count comes from {@code NORMLAB_THREADS} (or the system property {@code
 * normlab.threads}), default all cores. Work is split into a fixed number of contiguous chunks that
 * depends only on the range and the thread count, never on timing, so that the same thread count
 * gives bitwise the same result.
 *
 * <p>The calling thread runs chunk 0 itself and a team of {@code threads - 1} workers runs the
 * others. Between regions the workers spin for a while before they park, as OpenMP's do: waking a
 * parked thread takes tens of microseconds on a virtual machine. With a ForkJoinPool, which parks
 * at once, an empty two-chunk region cost 7 us here and two chunks of 22 us took 99 us (the second
 * often ran after the first, on the same thread); with the team 0.5 and 23 us ({@code
 * ParallelBench}), and the reference CNN's training step (about 25 regions) is 6-7% faster,
 * measured in one process alternating the two.
 */
public final class Parallel {
  /** A body over a half-open index range. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /** A body over a half-open range that also knows which chunk (0..chunks-1) it is. */
  @FunctionalInterface
  public interface ChunkBody {
    void run(int chunk, int from, int to);
  }

  /** How long an idle worker, or a caller waiting for its workers, spins before it parks. */
  private static final long SPIN_NANOS = Long.getLong("normlab.spinMicros", 200) * 1000;

  private static volatile int threads = initialThreads();
  private static volatile Team team = new Team(threads);

  /** Set while this thread runs a chunk: a region started inside one runs inline. */
  private static final ThreadLocal<boolean[]> INSIDE =
      ThreadLocal.withInitial(() -> new boolean[1]);

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
      Team old = team;
      old.lock.lock(); // wait for a running region to finish
      try {
        team = new Team(n);
        threads = n;
        old.shutdown();
      } finally {
        old.lock.unlock();
      }
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
    boolean[] inside = INSIDE.get();
    if (inside[0]) {
      // Nested in a chunk: run inline, as one chunk, to avoid oversubscription.
      body.run(0, 0, n);
      return;
    }
    Team t = team;
    t.lock.lock(); // one region at a time; another thread's region is short
    try {
      if (t.stopped || t.workers.length + 1 < chunks) {
        // setThreads replaced the team under us: the same chunks, one after another, so the
        // result is the one a team would have given.
        runInline(n, chunks, body, inside);
      } else {
        t.run(new Job(n, chunks, body, Thread.currentThread()), inside);
      }
    } finally {
      t.lock.unlock();
    }
  }

  private static void runInline(int n, int chunks, ChunkBody body, boolean[] inside) {
    inside[0] = true;
    try {
      for (int c = 0; c < chunks; c++) {
        body.run(c, start(n, chunks, c), start(n, chunks, c + 1));
      }
    } finally {
      inside[0] = false;
    }
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

  /** One parallel region: chunk c of it runs on worker c (chunk 0 on the caller). */
  private static final class Job {
    final int n;
    final int chunks;
    final ChunkBody body;
    final Thread caller;
    final AtomicInteger pending;
    volatile boolean callerParked;
    volatile Throwable failure;

    Job(int n, int chunks, ChunkBody body, Thread caller) {
      this.n = n;
      this.chunks = chunks;
      this.body = body;
      this.caller = caller;
      this.pending = new AtomicInteger(chunks - 1);
    }

    void runChunk(int c, boolean[] inside) {
      inside[0] = true;
      try {
        body.run(c, start(n, chunks, c), start(n, chunks, c + 1));
      } catch (Throwable e) {
        failure = e;
      } finally {
        inside[0] = false;
      }
    }

    /** Called by a worker when its chunk is done. */
    void done() {
      if (pending.decrementAndGet() == 0 && callerParked) {
        LockSupport.unpark(caller);
      }
    }
  }

  /** The workers of one thread count; one region at a time (its lock). */
  private static final class Team {
    final ReentrantLock lock = new ReentrantLock();
    final Worker[] workers;
    volatile Job job;
    volatile boolean stopped; // set by setThreads, under the lock, once a new team has replaced it

    Team(int threads) {
      workers = new Worker[threads - 1];
      for (int i = 0; i < workers.length; i++) {
        workers[i] = new Worker(this, i + 1);
        workers[i].start();
      }
    }

    void run(Job j, boolean[] inside) {
      job = j; // publishes the job's fields to the workers
      for (int w = 1; w < j.chunks; w++) {
        workers[w - 1].wake();
      }
      j.runChunk(0, inside);
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (j.pending.get() > 0) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          j.callerParked = true;
          if (j.pending.get() > 0) {
            LockSupport.park(this);
          }
        }
      }
      Throwable f = j.failure;
      if (f instanceof RuntimeException e) {
        throw e;
      } else if (f instanceof Error e) {
        throw e;
      } else if (f != null) {
        throw new IllegalStateException(f);
      }
    }

    void shutdown() {
      stopped = true;
      for (Worker w : workers) {
        w.stopped = true;
        LockSupport.unpark(w);
      }
    }
  }

  private static final class Worker extends Thread {
    final Team team;
    final int index;
    volatile boolean parked;
    volatile boolean stopped;

    Worker(Team team, int index) {
      super("normlab-" + index);
      this.team = team;
      this.index = index;
      setDaemon(true);
    }

    void wake() {
      if (parked) {
        LockSupport.unpark(this);
      }
    }

    @Override
    public void run() {
      boolean[] inside = INSIDE.get();
      Job seen = null;
      while (!stopped) {
        Job j = team.job;
        if (j == seen) {
          idle(seen);
          continue;
        }
        seen = j;
        if (index < j.chunks) {
          j.runChunk(index, inside);
          j.done();
        }
      }
    }

    /** Spins until a new job or SPIN_NANOS pass, then parks until woken. */
    private void idle(Job seen) {
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (team.job == seen && !stopped) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          parked = true;
          if (team.job == seen && !stopped) {
            LockSupport.park(this);
          }
          parked = false;
          spinUntil = System.nanoTime() + SPIN_NANOS;
        }
      }
    }
  }
}
