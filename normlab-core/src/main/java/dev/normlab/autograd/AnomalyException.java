package dev.normlab.autograd;

/**
 * A NaN or infinity showed up in an op's output or gradient while {@link Anomaly} detection was on.
 * The message names the op, the module (when known) and the value.
 */
public class AnomalyException extends ArithmeticException {
  /** Whether the bad value came out of the forward pass or out of backward. */
  public enum Phase {
    FORWARD,
    BACKWARD
  }

  private final Phase phase;
  private final String op;
  private final String module;

  public AnomalyException(Phase phase, String op, String module, String value, String detail) {
    super(
        (phase == Phase.FORWARD ? "output of " : "gradient computed by the backward of ")
            + op
            + (module == null ? "" : " in " + module)
            + " became "
            + value
            + (detail == null ? "" : detail));
    this.phase = phase;
    this.op = op;
    this.module = module;
  }

  public Phase phase() {
    return phase;
  }

  /** The op's name, e.g. {@code conv2d}. */
  public String op() {
    return op;
  }

  /**
   * The module, e.g. {@code norm2 (GroupNorm)} or {@code after norm1 (BatchNorm2d)}; may be null.
   */
  public String module() {
    return module;
  }
}
