package dev.normlab.train;

import java.nio.file.Path;

/**
 * Training stopped because a loss, an output or a gradient became NaN or infinite. The message
 * names the step, what went wrong (with {@code --detect-anomaly}: the first op and module) and the
 * last good checkpoint, which is left as it was.
 */
public class NumericalFaultException extends ArithmeticException {
  private final long step;
  private final transient Path lastGoodCheckpoint;

  public NumericalFaultException(
      String message, long step, Path lastGoodCheckpoint, Throwable cause) {
    super(message);
    this.step = step;
    this.lastGoodCheckpoint = lastGoodCheckpoint;
    if (cause != null) {
      initCause(cause);
    }
  }

  /** The 1-based optimizer step at which the fault appeared. */
  public long step() {
    return step;
  }

  /** The newest checkpoint written before the fault, or null if there was none. */
  public Path lastGoodCheckpoint() {
    return lastGoodCheckpoint;
  }
}
