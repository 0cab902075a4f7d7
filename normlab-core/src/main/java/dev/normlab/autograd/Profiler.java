package dev.normlab.autograd;

import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training step's time goes, by module and op, as {@code torch.profiler}'s {@code
 * key_averages(group_by_module)}: inside {@code try (Profiler p = Profiler.start(owners)) {...}}
 * each recorded op's forward is timed (the time since the previous op or {@link #mark()}: the op's
 * computation, which ends when it records its output) and each backward rule and gradient
 * accumulation is timed as it runs, on this thread. Ops are placed in modules as {@link Anomaly}
 * places them: by the parameters they read, else after the last module seen.
 *
 * <p>Timing is wall time on the calling thread: an op split over worker threads counts once, as
 * long as it takes. Off (the default), the tape checks one thread-local per op.
 */
public final class Profiler implements AutoCloseable {
  private static final ThreadLocal<Profiler> ACTIVE = new ThreadLocal<>();

  /**
   * One (module, op) pair's totals.
   *
   * @param module e.g. {@code conv2 (Conv2d)}, or {@code after norm2 (GroupNorm)} for an op that
   *     reads no parameter (a ReLU, a pooling)
   * @param op the op's name, {@code accumulate_grad} for a parameter's gradient being stored
   */
  public record Entry(String module, String op, long calls, long forwardNanos, long backwardNanos) {
    public long totalNanos() {
      return forwardNanos + backwardNanos;
    }
  }

  private final Map<Tensor, Anomaly.Owner> owners;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Profiler previous;
  private String lastModule;
  private long mark = System.nanoTime();

  private Profiler(Map<Tensor, Anomaly.Owner> owners, Profiler previous) {
    this.owners = new IdentityHashMap<>(owners == null ? Map.of() : owners);
    this.previous = previous;
  }

  /** Starts profiling on this thread; {@code owners} say which module each parameter is in. */
  public static Profiler start(Map<Tensor, Anomaly.Owner> owners) {
    Profiler p = new Profiler(owners, ACTIVE.get());
    ACTIVE.set(p);
    return p;
  }

  static Profiler active() {
    return ACTIVE.get();
  }

  /**
   * Restarts the forward clock: call before a step's first op, so that it is not charged with what
   * came before (loading the batch, zeroing gradients).
   */
  public void mark() {
    mark = System.nanoTime();
  }

  /** The module of an op over {@code inputs}; remembers it. */
  String locate(Tensor[] inputs) {
    for (Tensor t : inputs) {
      Anomaly.Owner o = t == null ? null : owners.get(t);
      if (o != null) {
        lastModule = o.module();
        return lastModule;
      }
    }
    return lastModule == null ? "(no module)" : "after " + lastModule;
  }

  /** An op just recorded its output: the time since the last mark was its forward. */
  void forward(String module, String op) {
    long now = System.nanoTime();
    add(module, op, 1, now - mark, 0);
    mark = now;
  }

  /** A backward rule (or a gradient accumulation) of {@code module}'s {@code op} took nanos. */
  void backward(String module, String op, long nanos) {
    add(module, op, 0, 0, nanos);
    mark = System.nanoTime(); // the next forward (another step) does not absorb the backward
  }

  /** The module a leaf belongs to, for its gradient accumulation. */
  String moduleOf(Tensor leaf) {
    Anomaly.Owner o = owners.get(leaf);
    return o == null ? "(no module)" : o.module();
  }

  private void add(String module, String op, long calls, long fwd, long bwd) {
    entries.merge(
        module + "\u0000" + op,
        new Entry(module, op, calls, fwd, bwd),
        (a, b) ->
            new Entry(
                a.module(),
                a.op(),
                a.calls() + b.calls(),
                a.forwardNanos() + b.forwardNanos(),
                a.backwardNanos() + b.backwardNanos()));
  }

  /** Everything timed so far, the most expensive first. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>(entries.values());
    out.sort(Comparator.comparingLong(Entry::totalNanos).reversed());
    return out;
  }

  /** Stops profiling on this thread (the entries stay readable). */
  @Override
  public void close() {
    if (ACTIVE.get() == this) {
      if (previous == null) {
        ACTIVE.remove();
      } else {
        ACTIVE.set(previous);
      }
    }
  }
}
