package dev.normlab.optim;

import dev.normlab.io.Json;
import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The base of the optimizers, as {@code torch.optim.Optimizer}: parameter groups (each a list of
 * parameters and its numeric options such as {@code lr}), per-parameter state tensors, {@link
 * #step()} and {@link #zeroGrad()}.
 *
 * <p>{@link #state()} exports the per-parameter state as named tensors {@code state.<i>.<name>},
 * where {@code i} numbers the parameters across groups in order (as PyTorch's {@code
 * state_dict()["state"]}); {@link #paramGroupsJson()} exports the group options. Both are what a
 * checkpoint stores.
 */
public abstract class Optimizer {

  /** A list of parameters and their options (e.g. {@code lr}, {@code momentum}). */
  public static final class ParamGroup {
    private final List<Tensor> params;
    private final Map<String, Double> options;

    ParamGroup(List<Tensor> params, Map<String, Double> options) {
      this.params = List.copyOf(params);
      this.options = new LinkedHashMap<>(options);
    }

    public List<Tensor> params() {
      return params;
    }

    /** The options, in insertion order (read-only view). */
    public Map<String, Double> options() {
      return Collections.unmodifiableMap(options);
    }

    public double get(String option) {
      Double v = options.get(option);
      if (v == null) {
        throw new IllegalArgumentException("param group has no option '" + option + "'");
      }
      return v;
    }

    public boolean has(String option) {
      return options.containsKey(option);
    }

    public void set(String option, double value) {
      options.put(option, value);
    }

    public double lr() {
      return get("lr");
    }

    public void setLr(double lr) {
      set("lr", lr);
    }
  }

  protected final Map<String, Double> defaults;
  private final List<ParamGroup> groups = new ArrayList<>();
  private final Map<Tensor, Map<String, Tensor>> state = new IdentityHashMap<>();

  protected Optimizer(List<Tensor> params, Map<String, Double> defaults) {
    this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
    addParamGroup(params, Map.of());
  }

  /** Adds a group; options not given take the optimizer's defaults. */
  public void addParamGroup(List<Tensor> params, Map<String, Double> options) {
    if (params.isEmpty()) {
      throw new IllegalArgumentException("optimizer got an empty parameter list");
    }
    java.util.Set<Tensor> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (ParamGroup g : groups) {
      seen.addAll(g.params);
    }
    for (Tensor p : params) {
      if (!seen.add(p)) {
        throw new IllegalArgumentException(
            "some parameters appear more than once (in one group or in several groups)");
      }
    }
    for (String k : options.keySet()) {
      if (!defaults.containsKey(k)) {
        throw new IllegalArgumentException(
            getClass().getSimpleName() + " has no option '" + k + "'; it has " + defaults.keySet());
      }
    }
    Map<String, Double> o = new LinkedHashMap<>(defaults);
    o.putAll(options);
    groups.add(new ParamGroup(params, o));
  }

  public List<ParamGroup> paramGroups() {
    return Collections.unmodifiableList(groups);
  }

  /** All parameters across groups, in order. */
  public List<Tensor> params() {
    List<Tensor> out = new ArrayList<>();
    for (ParamGroup g : groups) {
      out.addAll(g.params);
    }
    return out;
  }

  /**
   * Performs one update from the parameters' current gradients (parameters without one are
   * skipped).
   */
  public abstract void step();

  /** Clears the gradients (sets them to none, PyTorch's default). */
  public void zeroGrad() {
    for (ParamGroup g : groups) {
      for (Tensor p : g.params) {
        p.zeroGrad();
      }
    }
  }

  /**
   * {@link #zeroGrad()} that also gives the old gradient arrays to the {@code BufferScope} pool, as
   * PyTorch's caching allocator takes back a freed gradient: the next backward writes into memory
   * that is still in cache. Only for a loop where nothing else holds a gradient tensor.
   */
  public void zeroGradRecycling() {
    for (ParamGroup g : groups) {
      for (Tensor p : g.params) {
        p.zeroGradRecycling();
      }
    }
  }

  /** The state of {@code p} (created empty on first use). */
  protected Map<String, Tensor> stateOf(Tensor p) {
    return state.computeIfAbsent(p, k -> new LinkedHashMap<>());
  }

  /** The names of the state tensors this optimizer keeps per parameter. */
  protected abstract List<String> stateNames();

  // ------------------------------------------------------------------ state export / import

  /** The per-parameter state as {@code state.<i>.<name>} tensors (copies). */
  public Map<String, Tensor> state() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    List<Tensor> ps = params();
    for (int i = 0; i < ps.size(); i++) {
      Map<String, Tensor> st = state.get(ps.get(i));
      if (st == null) {
        continue;
      }
      for (var e : st.entrySet()) {
        out.put("state." + i + "." + e.getKey(), e.getValue().copy());
      }
    }
    return out;
  }

  /**
   * Replaces the per-parameter state with {@code named} (as exported by {@link #state()}). Names,
   * indices and shapes are checked; nothing is changed if any is wrong.
   */
  public void loadState(Map<String, Tensor> named) {
    List<Tensor> ps = params();
    Map<Tensor, Map<String, Tensor>> fresh = new IdentityHashMap<>();
    List<String> problems = new ArrayList<>();
    for (var e : new TreeMap<>(named).entrySet()) {
      String k = e.getKey();
      String[] parts = k.split("\\.", 3);
      if (parts.length != 3 || !parts[0].equals("state")) {
        problems.add("unexpected key \"" + k + "\"");
        continue;
      }
      int i;
      try {
        i = Integer.parseInt(parts[1]);
      } catch (NumberFormatException ex) {
        problems.add("unexpected key \"" + k + "\"");
        continue;
      }
      if (i < 0 || i >= ps.size()) {
        problems.add("\"" + k + "\": parameter index " + i + " but the optimizer has " + ps.size());
        continue;
      }
      if (!stateNames().contains(parts[2])) {
        problems.add(
            "\"" + k + "\": " + getClass().getSimpleName() + " keeps no state '" + parts[2] + "'");
        continue;
      }
      Tensor v = e.getValue();
      Tensor p = ps.get(i);
      boolean scalar = parts[2].equals("step");
      if (scalar ? v.numel() != 1 : !Arrays.equals(v.shape(), p.shape())) {
        problems.add(
            "size mismatch for \""
                + k
                + "\": "
                + Arrays.toString(v.shape())
                + " in the state, parameter "
                + i
                + " has "
                + Arrays.toString(p.shape()));
        continue;
      }
      fresh.computeIfAbsent(p, x -> new LinkedHashMap<>()).put(parts[2], v.copy());
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "cannot load "
              + getClass().getSimpleName()
              + " state:\n\t"
              + String.join("\n\t", problems));
    }
    state.clear();
    state.putAll(fresh);
  }

  /** The groups' options as JSON: {@code [{"lr":0.1,...},...]} (doubles round-trip exactly). */
  public String paramGroupsJson() {
    List<Object> out = new ArrayList<>();
    for (ParamGroup g : groups) {
      Map<String, Object> m = new LinkedHashMap<>(g.options);
      m.put("params", g.params.size());
      out.add(m);
    }
    return Json.write(out);
  }

  /** Restores group options from {@link #paramGroupsJson()} (group count and sizes must match). */
  public void loadParamGroupsJson(String json) {
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (Json.ParseException e) {
      throw new IllegalArgumentException("bad param groups JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof List<?> list) || list.size() != groups.size()) {
      throw new IllegalArgumentException(
          "param groups JSON does not describe " + groups.size() + " group(s): " + json);
    }
    List<Map<String, Double>> updates = new ArrayList<>();
    for (int gi = 0; gi < list.size(); gi++) {
      if (!(list.get(gi) instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException("param group " + gi + " is not an object");
      }
      Map<String, Double> u = new LinkedHashMap<>();
      for (var e : m.entrySet()) {
        String k = (String) e.getKey();
        if (!(e.getValue() instanceof Number num)) {
          throw new IllegalArgumentException("param group " + gi + ": '" + k + "' is not a number");
        }
        if (k.equals("params")) {
          if (num.intValue() != groups.get(gi).params.size()) {
            throw new IllegalArgumentException(
                "param group "
                    + gi
                    + " had "
                    + num
                    + " parameters, this optimizer's has "
                    + groups.get(gi).params.size());
          }
        } else {
          u.put(k, num.doubleValue());
        }
      }
      updates.add(u);
    }
    for (int gi = 0; gi < updates.size(); gi++) {
      updates.get(gi).forEach(groups.get(gi)::set);
    }
  }

  // ------------------------------------------------------------------ helpers

  static void checkNonNegative(String what, double v) {
    if (!(v >= 0)) {
      throw new IllegalArgumentException("Invalid " + what + ": " + v);
    }
  }

  /** {@code Map.of} with ordered doubles: {@code opts("lr", 0.1, "momentum", 0.0)}. */
  static Map<String, Double> opts(Object... kv) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    }
    return m;
  }
}
