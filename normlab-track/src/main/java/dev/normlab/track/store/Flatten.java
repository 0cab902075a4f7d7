package dev.normlab.track.store;

import dev.normlab.io.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/** Flattens a nested config into dotted keys with JSON scalar values. */
public final class Flatten {
  private Flatten() {}

  /** One flattened entry: the JSON text of the value and, for numbers, the number. */
  public record Entry(String json, Double number) {}

  /**
   * {@code {optimizer: {lr: 0.01}}} becomes {@code optimizer.lr -> 0.01}. Collections and arrays
   * stay one value (a JSON array); other objects (paths, enums) are written as their string form.
   */
  public static Map<String, Entry> flatten(Map<String, ?> config) {
    Map<String, Entry> out = new LinkedHashMap<>();
    flatten("", config, out);
    return out;
  }

  private static void flatten(String prefix, Map<?, ?> m, Map<String, Entry> out) {
    for (var e : m.entrySet()) {
      String k = prefix + e.getKey();
      Object v = e.getValue();
      if (v instanceof Map<?, ?> nested) {
        if (nested.isEmpty()) {
          put(out, k, new Entry("{}", null));
        } else {
          flatten(k + ".", nested, out);
        }
      } else {
        put(out, k, entry(v));
      }
    }
  }

  private static void put(Map<String, Entry> out, String k, Entry e) {
    if (out.putIfAbsent(k, e) != null) {
      throw new IllegalArgumentException("config key '" + k + "' appears twice once flattened");
    }
  }

  static Entry entry(Object v) {
    if (v == null) {
      return new Entry("null", null);
    }
    if (v instanceof Number n) {
      double d = n.doubleValue();
      if (!Double.isFinite(d)) {
        return new Entry(Json.write(String.valueOf(d)), null);
      }
      return new Entry(Json.write(v instanceof Float f ? (Object) f.doubleValue() : v), d);
    }
    if (v instanceof Boolean) {
      return new Entry(v.toString(), null);
    }
    if (v instanceof java.util.Collection<?> || v.getClass().isArray()) {
      return new Entry(Json.write(toJsonable(v)), null);
    }
    return new Entry(Json.write(v.toString()), null);
  }

  private static Object toJsonable(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean) {
      return v;
    }
    if (v instanceof Number n) {
      double d = n.doubleValue();
      return Double.isFinite(d) ? (v instanceof Float ? (Object) d : v) : String.valueOf(d);
    }
    if (v instanceof java.util.Collection<?> it) {
      var list = new java.util.ArrayList<Object>();
      it.forEach(o -> list.add(toJsonable(o)));
      return list;
    }
    if (v.getClass().isArray()) {
      var list = new java.util.ArrayList<Object>();
      int n = java.lang.reflect.Array.getLength(v);
      for (int i = 0; i < n; i++) {
        list.add(toJsonable(java.lang.reflect.Array.get(v, i)));
      }
      return list;
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> o = new LinkedHashMap<>();
      m.forEach((k, x) -> o.put(String.valueOf(k), toJsonable(x)));
      return o;
    }
    return v.toString();
  }
}
