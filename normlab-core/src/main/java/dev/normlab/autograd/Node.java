package dev.normlab.autograd;

import dev.normlab.tensor.Tensor;

/**
 * One recorded op on the tape: the inputs it read and its backward rule. The rule (and everything
 * it saved) is dropped after backward unless the graph is retained.
 */
public final class Node {
  private final String op;
  private final Tensor[] inputs;
  private final String module;
  private Backward backward;

  Node(String op, Tensor[] inputs, Backward backward, String module) {
    this.op = op;
    this.inputs = inputs;
    this.backward = backward;
    this.module = module;
  }

  /**
   * The module the op ran in, when {@link Anomaly} detection or the {@link Profiler} was on to
   * record it; else null.
   */
  public String module() {
    return module;
  }

  /** The op's name, e.g. {@code "conv2d"}; used in error and anomaly messages. */
  public String op() {
    return op;
  }

  Tensor[] inputs() {
    return inputs;
  }

  Backward backward() {
    return backward;
  }

  void release() {
    backward = null;
  }

  boolean released() {
    return backward == null;
  }

  @Override
  public String toString() {
    return op + "Backward";
  }
}
