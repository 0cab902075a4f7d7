package dev.normlab.nn;

import dev.normlab.tensor.DType;
import dev.normlab.tensor.Shapes;
import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The base of every layer, as {@code torch.nn.Module}: named parameters, buffers and child modules,
 * a train/eval switch, and a {@link #stateDict()} whose keys match PyTorch's.
 */
public abstract class Module {
  private final Map<String, Tensor> parameters = new LinkedHashMap<>();
  private final Map<String, Tensor> buffers = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;

  /** Applies the module to one input. */
  public abstract Tensor forward(Tensor input);

  /**
   * Applies the module and shows {@code probe} its intermediate outputs; a module without named
   * intermediate outputs shows none and computes exactly what {@link #forward(Tensor)} does.
   */
  public Tensor forward(Tensor input, ActivationProbe probe) {
    return forward(input);
  }

  /** Registers a trainable parameter (marked as requiring grad). A null value records "no such". */
  protected Tensor registerParameter(String name, Tensor value) {
    if (value != null) {
      value.requiresGrad(true);
    }
    parameters.put(name, value);
    return value;
  }

  /** Registers a buffer (saved in the state dict, not trained). */
  protected Tensor registerBuffer(String name, Tensor value) {
    buffers.put(name, value);
    return value;
  }

  /** Replaces a buffer's tensor (e.g. when a counter is updated). */
  protected void setBuffer(String name, Tensor value) {
    if (!buffers.containsKey(name)) {
      throw new IllegalArgumentException("no buffer named " + name);
    }
    buffers.put(name, value);
  }

  protected <M extends Module> M registerModule(String name, M module) {
    children.put(name, module);
    return module;
  }

  public boolean isTraining() {
    return training;
  }

  /** Sets training mode on this module and all children; returns this. */
  public Module train(boolean on) {
    training = on;
    for (Module c : children.values()) {
      if (c != null) {
        c.train(on);
      }
    }
    return this;
  }

  public Module train() {
    return train(true);
  }

  public Module eval() {
    return train(false);
  }

  /** Direct children in registration order. */
  public Map<String, Module> namedChildren() {
    return java.util.Collections.unmodifiableMap(children);
  }

  /** All parameters with dotted names, depth first, as PyTorch orders them. */
  public Map<String, Tensor> namedParameters() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect("", out, true, false);
    return out;
  }

  public List<Tensor> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  public Map<String, Tensor> namedBuffers() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect("", out, false, true);
    return out;
  }

  /** Parameters and buffers with PyTorch's state-dict keys (same order as PyTorch). */
  public Map<String, Tensor> stateDict() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect("", out, true, true);
    return out;
  }

  private void collect(String prefix, Map<String, Tensor> out, boolean params, boolean bufs) {
    if (params) {
      parameters.forEach(
          (k, v) -> {
            if (v != null) {
              out.put(prefix + k, v);
            }
          });
    }
    if (bufs) {
      buffers.forEach(
          (k, v) -> {
            if (v != null) {
              out.put(prefix + k, v);
            }
          });
    }
    children.forEach(
        (k, c) -> {
          if (c != null) {
            c.collect(prefix + k + ".", out, params, bufs);
          }
        });
  }

  /**
   * Copies values from {@code state} into this module's parameters and buffers. With {@code
   * strict}, missing and unexpected keys are errors; shapes and dtypes must always match. The
   * message lists every mismatch, as PyTorch's does.
   */
  public void loadStateDict(Map<String, Tensor> state, boolean strict) {
    Map<String, Tensor> own = stateDict();
    List<String> problems = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String k : own.keySet()) {
      if (!state.containsKey(k)) {
        missing.add(k);
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String k : state.keySet()) {
      if (!own.containsKey(k)) {
        unexpected.add(k);
      }
    }
    if (strict && !missing.isEmpty()) {
      problems.add("Missing key(s) in state_dict: " + quoted(missing) + ".");
    }
    if (strict && !unexpected.isEmpty()) {
      problems.add("Unexpected key(s) in state_dict: " + quoted(unexpected) + ".");
    }
    for (var e : own.entrySet()) {
      Tensor src = state.get(e.getKey());
      if (src == null) {
        continue;
      }
      Tensor dst = e.getValue();
      if (!Arrays.equals(src.shape(), dst.shape())) {
        problems.add(
            "size mismatch for "
                + e.getKey()
                + ": copying a param with shape "
                + Shapes.str(src.shape())
                + " from checkpoint, the shape in current model is "
                + Shapes.str(dst.shape())
                + ".");
      } else if (src.dtype() != dst.dtype()) {
        problems.add(
            "dtype mismatch for "
                + e.getKey()
                + ": checkpoint has "
                + src.dtype()
                + ", model has "
                + dst.dtype()
                + ".");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "Error(s) in loading state_dict for "
              + getClass().getSimpleName()
              + ":\n\t"
              + String.join("\n\t", problems));
    }
    for (var e : own.entrySet()) {
      Tensor src = state.get(e.getKey());
      if (src != null) {
        System.arraycopy(src.data(), 0, e.getValue().data(), 0, src.numel());
      }
    }
  }

  /** Clears every parameter's gradient. */
  public void zeroGrad() {
    for (Tensor p : parameters()) {
      p.zeroGrad();
    }
  }

  /** The text inside the parentheses of {@link #toString()}, like PyTorch's {@code extra_repr}. */
  protected String extraRepr() {
    return "";
  }

  /** PyTorch's module repr, nested children indented by two spaces. */
  @Override
  public String toString() {
    String name = getClass().getSimpleName();
    if (children.isEmpty()) {
      return name + "(" + extraRepr() + ")";
    }
    StringBuilder sb = new StringBuilder(name).append("(");
    String extra = extraRepr();
    if (!extra.isEmpty()) {
      sb.append("\n  ").append(extra);
    }
    children.forEach(
        (k, c) ->
            sb.append("\n  (")
                .append(k)
                .append("): ")
                .append(String.valueOf(c).replace("\n", "\n  ")));
    return sb.append("\n)").toString();
  }

  private static String quoted(List<String> keys) {
    return String.join(", ", keys.stream().map(k -> "\"" + k + "\"").toList());
  }

  /** Formats a float the way Python's repr prints it (1e-05, 0.1, 1.0). */
  protected static String pyFloat(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e16) {
      return String.format("%.1f", v);
    }
    String s = Double.toString(v);
    if (s.contains("E") && Math.abs(v) >= 1e-4 && Math.abs(v) < 1e16) {
      // Python switches to exponent notation only below 1e-4 (Java already below 1e-3).
      return new java.math.BigDecimal(s).stripTrailingZeros().toPlainString();
    }
    if (s.contains("E")) {
      String[] parts = s.split("E");
      String mant =
          parts[0].endsWith(".0") ? parts[0].substring(0, parts[0].length() - 2) : parts[0];
      int exp = Integer.parseInt(parts[1]);
      return mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }
    return s;
  }

  /** Python's spelling of a boolean. */
  protected static String py(boolean b) {
    return b ? "True" : "False";
  }

  /** A long counter as an INT64 0-dim tensor, e.g. {@code num_batches_tracked}. */
  protected static Tensor longScalar(long v) {
    return Tensor.of(DType.INT64, new float[] {v});
  }
}
