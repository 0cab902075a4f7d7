package dev.normlab.data;

import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batches a {@link Dataset}, like {@code torch.utils.data.DataLoader}: optional shuffling from its
 * own seeded {@link Rng} (one permutation per epoch), {@code drop_last}, a per-image {@link
 * Transform}, and prefetching of the next batch on one background daemon thread.
 *
 * <p>{@code for (Batch b : loader)} runs the rest of the current epoch; when its last batch is
 * handed out the loader moves to the next epoch. {@link #state()} tells where it stands (epoch,
 * batches consumed, the generator state the epoch's permutation was drawn from) and {@link
 * #restore(State)} puts a new loader back there, so a resumed run sees the same batches in the same
 * order with the same augmentations.
 */
public final class DataLoader implements Iterable<DataLoader.Batch>, AutoCloseable {

  /**
   * One batch: images {@code [B, 1, rows, cols]}, INT64 labels {@code [B]}, dataset indices (null
   * for a batch made on the fly, not drawn from a dataset).
   */
  public record Batch(Tensor images, Tensor labels, int[] indices) {
    public int size() {
      return images.shape()[0];
    }
  }

  /**
   * A loader's position: the epoch, the number of batches of it already handed out, and the
   * generator state from which the epoch's permutation is (or will be) drawn.
   */
  public record State(int epoch, int batchIndex, long[] rngState) {
    public State {
      rngState = rngState.clone();
    }

    /** A one-line text form, e.g. for checkpoint metadata: {@code epoch,batch,s0,...}. */
    public String encode() {
      StringBuilder sb = new StringBuilder().append(epoch).append(',').append(batchIndex);
      for (long s : rngState) {
        sb.append(',').append(s);
      }
      return sb.toString();
    }

    /** Parses {@link #encode()}'s output. */
    public static State decode(String s) {
      String[] p = s.trim().split(",");
      if (p.length < 2) {
        throw new IllegalArgumentException("bad data loader state '" + s + "'");
      }
      try {
        long[] rng = new long[p.length - 2];
        for (int i = 0; i < rng.length; i++) {
          rng[i] = Long.parseLong(p[i + 2]);
        }
        return new State(Integer.parseInt(p[0]), Integer.parseInt(p[1]), rng);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad data loader state '" + s + "'", e);
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof State st
          && st.epoch == epoch
          && st.batchIndex == batchIndex
          && Arrays.equals(st.rngState, rngState);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * epoch + batchIndex) + Arrays.hashCode(rngState);
    }

    @Override
    public String toString() {
      return "State[epoch=" + epoch + ", batch=" + batchIndex + "]";
    }
  }

  private final Dataset dataset;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final Transform transform;
  private final boolean prefetch;
  private final Rng rng;

  private int epoch;
  private int batchIndex;
  private long[] epochRngState;
  private int[] order;
  private ExecutorService executor;

  private DataLoader(Builder b) {
    if (b.batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + b.batchSize);
    }
    this.dataset = b.dataset;
    this.batchSize = b.batchSize;
    this.shuffle = b.shuffle;
    this.seed = b.seed;
    this.dropLast = b.dropLast;
    this.transform = b.transform;
    this.prefetch = b.prefetch;
    this.rng = new Rng(b.seed);
    this.epochRngState = rng.state();
  }

  public static Builder builder(Dataset dataset) {
    return new Builder(dataset);
  }

  /** Options of a {@link DataLoader}. */
  public static final class Builder {
    private final Dataset dataset;
    private int batchSize = 64;
    private boolean shuffle;
    private long seed;
    private boolean dropLast;
    private Transform transform = Transforms.identity();
    private boolean prefetch = true;

    private Builder(Dataset dataset) {
      this.dataset = dataset;
    }

    public Builder batchSize(int n) {
      this.batchSize = n;
      return this;
    }

    public Builder shuffle(boolean on) {
      this.shuffle = on;
      return this;
    }

    /** Seed of the loader's own generator (shuffling and augmentation). */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    public Builder dropLast(boolean on) {
      this.dropLast = on;
      return this;
    }

    public Builder transform(Transform t) {
      this.transform = t == null ? Transforms.identity() : t;
      return this;
    }

    /** Whether the next batch is prepared on a background thread (default true). */
    public Builder prefetch(boolean on) {
      this.prefetch = on;
      return this;
    }

    public DataLoader build() {
      return new DataLoader(this);
    }
  }

  public Dataset dataset() {
    return dataset;
  }

  public int batchSize() {
    return batchSize;
  }

  /** Batches per epoch. */
  public int numBatches() {
    int n = dataset.size();
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** The current epoch (0-based). */
  public synchronized int epoch() {
    return epoch;
  }

  /** Batches of the current epoch already handed out. */
  public synchronized int batchIndex() {
    return batchIndex;
  }

  /** Where the loader stands, for checkpoints. */
  public synchronized State state() {
    return new State(epoch, batchIndex, epochRngState);
  }

  /** Puts the loader at {@code st} (taken from a loader over the same dataset and options). */
  public synchronized void restore(State st) {
    if (st.batchIndex() < 0 || st.batchIndex() > numBatches()) {
      throw new IllegalArgumentException(
          "batch index " + st.batchIndex() + " is outside 0.." + numBatches());
    }
    rng.setState(st.rngState());
    epoch = st.epoch();
    batchIndex = st.batchIndex();
    epochRngState = st.rngState();
    order = null;
  }

  /** The index order of the current epoch (drawn on first use). */
  private synchronized int[] order() {
    if (order == null) {
      epochRngState = rng.state();
      if (shuffle) {
        order = rng.permutation(dataset.size());
      } else {
        order = new int[dataset.size()];
        for (int i = 0; i < order.length; i++) {
          order[i] = i;
        }
      }
    }
    return order;
  }

  /** Moves past one handed-out batch; returns true if it was the epoch's last. */
  private synchronized boolean advance(int ep) {
    if (ep != epoch) {
      return true;
    }
    batchIndex++;
    if (batchIndex >= numBatches()) {
      epoch++;
      batchIndex = 0;
      order = null;
      epochRngState = rng.state();
      return true;
    }
    return false;
  }

  /** Builds batch {@code b} of an epoch with the given order (a pure function of its inputs). */
  private Batch build(int[] ord, int ep, int b) {
    int start = b * batchSize;
    int end = Math.min(start + batchSize, ord.length);
    int n = end - start;
    int rows = dataset.rows();
    int cols = dataset.cols();
    int px = rows * cols;
    float[] images = new float[n * px];
    int[] labels = new int[n];
    int[] idx = Arrays.copyOfRange(ord, start, end);
    float[] src = dataset.images();
    Rng aug = new Rng(mix(seed, ep, b));
    for (int i = 0; i < n; i++) {
      System.arraycopy(src, idx[i] * px, images, i * px, px);
      labels[i] = dataset.labels()[idx[i]];
      transform.apply(images, i * px, rows, cols, aug);
    }
    return new Batch(Tensor.of(images, n, 1, rows, cols), Tensor.ofInts(labels, n), idx);
  }

  private static long mix(long seed, int epoch, int batch) {
    long z = seed * 0x9E3779B97F4A7C15L + (epoch + 1L) * 0xC2B2AE3D27D4EB4FL + batch;
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    return z ^ (z >>> 33);
  }

  private synchronized ExecutorService executor() {
    if (executor == null) {
      executor =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "normlab-dataloader-prefetch");
                t.setDaemon(true);
                return t;
              });
    }
    return executor;
  }

  /** The remaining batches of the current epoch. */
  @Override
  public Iterator<Batch> iterator() {
    final int ep;
    final int first;
    final int[] ord;
    synchronized (this) {
      ep = epoch;
      first = batchIndex;
      ord = order();
    }
    final int total = numBatches();
    return new Iterator<>() {
      private int next = first;
      private Future<Batch> pending = schedule(first);

      private Future<Batch> schedule(int b) {
        if (!prefetch || b >= total) {
          return null;
        }
        return executor().submit(() -> build(ord, ep, b));
      }

      @Override
      public boolean hasNext() {
        return next < total;
      }

      @Override
      public Batch next() {
        if (next >= total) {
          throw new NoSuchElementException();
        }
        Batch batch;
        if (pending != null) {
          try {
            batch = pending.get();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
          } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
              throw re;
            }
            if (c instanceof Error err) {
              throw err;
            }
            throw new IllegalStateException(c);
          }
        } else {
          batch = build(ord, ep, next);
        }
        next++;
        pending = schedule(next);
        if (advance(ep)) {
          next = total;
          pending = null;
        }
        return batch;
      }
    };
  }

  /** Stops the prefetch thread. */
  @Override
  public synchronized void close() {
    if (executor != null) {
      executor.shutdownNow();
      executor = null;
    }
  }
}
