package dev.normlab.autograd;

/**
 * Whether ops record themselves for backward on this thread. {@code try (var g = GradMode.noGrad())
 * { ... }} disables recording inside the block, like {@code torch.no_grad()}.
 */
public final class GradMode {
  private static final ThreadLocal<boolean[]> ENABLED =
      ThreadLocal.withInitial(() -> new boolean[] {true});

  private GradMode() {}

  public static boolean isEnabled() {
    return ENABLED.get()[0];
  }

  /** A scope with recording switched off; closing it restores the previous mode. */
  public static Scope noGrad() {
    return set(false);
  }

  /** A scope with recording switched on (inside a {@link #noGrad()} block). */
  public static Scope enableGrad() {
    return set(true);
  }

  private static Scope set(boolean on) {
    boolean[] cell = ENABLED.get();
    boolean previous = cell[0];
    cell[0] = on;
    return () -> cell[0] = previous;
  }

  /** A grad-mode scope; {@link #close()} restores the mode it replaced. */
  @FunctionalInterface
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }
}
