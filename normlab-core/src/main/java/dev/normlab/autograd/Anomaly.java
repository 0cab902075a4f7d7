package dev.normlab.autograd;

import dev.normlab.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Anomaly detection, like {@code torch.autograd.detect_anomaly()}: inside {@code try (var a =
 * Anomaly.detect(owners)) { ... }} every recorded op's forward output and every gradient computed
 * in backward is checked for NaN and infinity on this thread, and the first non-finite one stops
 * the computation with an {@link AnomalyException} naming the op and the module it belongs to.
 *
 * <p>Autograd knows nothing about modules: the caller passes which parameter tensor belongs to
 * which module ({@link Owner}). An op that reads a parameter is located in that parameter's module;
 * one that reads none (relu, max_pool2d, ...) is located after the last module seen. Checking costs
 * a pass over every output and gradient, so it is off unless asked for.
 */
public final class Anomaly {
  private static final ThreadLocal<State> STATE = new ThreadLocal<>();

  private Anomaly() {}

  /**
   * Where a parameter lives, e.g. {@code new Owner("norm2.weight", "norm2 (GroupNorm)")}.
   *
   * @param parameter the parameter's state-dict name
   * @param module the module's path and class, as shown in messages
   */
  public record Owner(String parameter, String module) {}

  private static final class State {
    final Map<Tensor, Owner> owners;
    String lastModule;
    int backwardDepth; // ops run by backward rules are checked as gradients, not as outputs

    State(Map<Tensor, Owner> owners) {
      this.owners = owners;
    }
  }

  /** Switches detection on for this thread until the returned scope is closed. */
  public static GradMode.Scope detect(Map<Tensor, Owner> owners) {
    State previous = STATE.get();
    Map<Tensor, Owner> copy = new IdentityHashMap<>();
    if (owners != null) {
      copy.putAll(owners);
    }
    STATE.set(new State(copy));
    return () -> {
      if (previous == null) {
        STATE.remove();
      } else {
        STATE.set(previous);
      }
    };
  }

  public static boolean isEnabled() {
    return STATE.get() != null;
  }

  /** Whether forward outputs are checked now (on, and not inside a backward pass). */
  static boolean checksForward() {
    State st = STATE.get();
    return st != null && st.backwardDepth == 0;
  }

  /** Marks the start ({@code +1}) or end ({@code -1}) of a backward pass on this thread. */
  static void backwardPass(int delta) {
    State st = STATE.get();
    if (st != null) {
      st.backwardDepth += delta;
    }
  }

  /** The module an op over {@code inputs} belongs to (null if unknown); remembers it. */
  static String locate(Tensor[] inputs) {
    State st = STATE.get();
    if (st == null) {
      return null;
    }
    for (Tensor t : inputs) {
      Owner o = t == null ? null : st.owners.get(t);
      if (o != null) {
        st.lastModule = o.module();
        return o.module();
      }
    }
    return st.lastModule == null ? null : "after " + st.lastModule;
  }

  /** Throws if {@code output} of {@code op} holds a NaN or an infinity. */
  static void checkForward(String op, Tensor output, Tensor[] inputs, String module) {
    String bad = nonFinite(output);
    if (bad == null) {
      return;
    }
    StringBuilder detail = new StringBuilder();
    State st = STATE.get();
    for (Tensor t : inputs) {
      Owner o = t == null ? null : st.owners.get(t);
      String b = t == null ? null : nonFinite(t);
      if (o != null && b != null) {
        detail.append("; parameter ").append(o.parameter()).append(" already holds ").append(b);
      }
    }
    throw new AnomalyException(AnomalyException.Phase.FORWARD, op, module, bad, detail.toString());
  }

  /**
   * Throws if the gradient {@code grad} that {@code node}'s backward gave input {@code k} is bad.
   */
  static void checkGradient(Node node, int k, Tensor grad) {
    String bad = nonFinite(grad);
    if (bad != null) {
      throw new AnomalyException(
          AnomalyException.Phase.BACKWARD,
          node.op(),
          node.module(),
          bad,
          " (gradient for input " + k + ")");
    }
  }

  /** "NaN", "+Inf" or "-Inf" for the first non-finite element, or null if all are finite. */
  static String nonFinite(Tensor t) {
    float[] d = t.data();
    for (float v : d) {
      if (!Float.isFinite(v)) {
        return Float.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
      }
    }
    return null;
  }
}
