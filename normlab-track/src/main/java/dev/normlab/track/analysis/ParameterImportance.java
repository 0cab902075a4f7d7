package dev.normlab.track.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which config parameters a result depends on, over a set of runs — W&B's parameter-importance
 * panel. Two numbers per parameter that varies:
 *
 * <ul>
 *   <li><b>importance</b>: the share of a random forest's variance reduction that splits on the
 *       parameter (regression trees on bootstrap samples of the runs, a third of the features tried
 *       at each split; a word-valued parameter is one 0/1 feature per value, their shares added).
 *       Unlike a correlation it sees an effect that rises and falls (accuracy best at a middle
 *       learning rate) and one of words (the norm);
 *   <li><b>correlation</b>: Spearman's rank correlation of a numeric parameter with the result (the
 *       direction of a monotone effect; none for words, whose values' mean results are listed
 *       instead).
 * </ul>
 *
 * The forest's out-of-bag R² says how much of the result's variance the parameters explain for runs
 * a tree did not see: near 0 (or below) the shares describe noise. Everything is drawn from a fixed
 * seed, so the same runs give the same numbers.
 */
public final class ParameterImportance {
  /** Config keys that name a place or the machine, not a setting (as the dashboard's). */
  public static final Pattern RUN_SPECIFIC =
      Pattern.compile("(^|\\.)(checkpoint_dir|data_dir)$|^env\\.");

  static final int TREES = 300;
  private static final long SEED = 0x5eedL;

  /** One run: its config values (numbers, words, booleans) and the result, NaN when it has none. */
  public record Observation(Map<String, Object> config, double value) {}

  /** A word-valued parameter's value, with the mean result of its runs. */
  public record ValueMean(String value, double mean, int runs) {}

  /**
   * A parameter that varies: its share of the forest's importance, Spearman's correlation (null for
   * words, or when undefined), its range (numbers) or values best first (words), and how many runs
   * lack it.
   */
  public record Parameter(
      String key,
      boolean numeric,
      double importance,
      Double correlation,
      Double min,
      Double max,
      List<ValueMean> values,
      int missing) {}

  /**
   * The result: the runs used (those with a finite value), the parameters by importance, the
   * out-of-bag R² (null when too few runs were out of bag), the keys left out and why, and a reason
   * when there is nothing to rank.
   */
  public record Result(
      String metric,
      int runs,
      int runsWithoutMetric,
      List<Parameter> parameters,
      Double outOfBagR2,
      Map<String, String> leftOut,
      String reason) {

    /** As JSON-ready maps and lists (the dashboard's and the report's form). */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("metric", metric);
      m.put("runs", runs);
      m.put("runs_without_metric", runsWithoutMetric);
      m.put("oob_r2", outOfBagR2);
      m.put("reason", reason);
      List<Map<String, Object>> ps = new ArrayList<>();
      for (Parameter p : parameters) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("key", p.key());
        q.put("numeric", p.numeric());
        q.put("importance", p.importance());
        q.put("correlation", p.correlation());
        q.put("min", p.min());
        q.put("max", p.max());
        List<Map<String, Object>> vs = new ArrayList<>();
        for (ValueMean v : p.values()) {
          vs.add(Map.of("value", v.value(), "mean", v.mean(), "runs", v.runs()));
        }
        q.put("values", vs);
        q.put("missing", p.missing());
        ps.add(q);
      }
      m.put("parameters", ps);
      m.put("left_out", leftOut);
      return m;
    }
  }

  private ParameterImportance() {}

  /** The importance of every varying config key for {@code metric} over {@code runs}. */
  public static Result of(String metric, List<Observation> runs) {
    List<Observation> used = new ArrayList<>();
    for (Observation o : runs) {
      if (Double.isFinite(o.value())) {
        used.add(o);
      }
    }
    int without = runs.size() - used.size();
    Map<String, String> leftOut = new TreeMap<>();
    List<Feature> features = features(used, leftOut);
    if (used.size() < 3) {
      return empty(
          metric,
          used.size(),
          without,
          leftOut,
          "needs at least 3 runs with a value of " + metric + ", has " + used.size());
    }
    if (features.isEmpty()) {
      return empty(
          metric, used.size(), without, leftOut, "no config parameter varies over these runs");
    }
    double[] y = used.stream().mapToDouble(Observation::value).toArray();
    List<double[]> columns = new ArrayList<>();
    List<Integer> owner = new ArrayList<>();
    for (int f = 0; f < features.size(); f++) {
      for (double[] c : features.get(f).columns()) {
        columns.add(c);
        owner.add(f);
      }
    }
    Forest forest = Forest.grow(columns.toArray(new double[0][]), y, TREES, SEED);
    double total = Arrays.stream(forest.decrease()).sum();
    double[] share = new double[features.size()];
    for (int c = 0; c < columns.size(); c++) {
      share[owner.get(c)] += total > 0 ? forest.decrease()[c] / total : 0;
    }
    List<Parameter> params = new ArrayList<>();
    for (int f = 0; f < features.size(); f++) {
      params.add(features.get(f).describe(share[f], y));
    }
    params.sort(
        Comparator.comparingDouble(Parameter::importance).reversed().thenComparing(Parameter::key));
    return new Result(metric, used.size(), without, params, forest.outOfBagR2(), leftOut, null);
  }

  private static Result empty(
      String metric, int runs, int without, Map<String, String> leftOut, String reason) {
    return new Result(metric, runs, without, List.of(), null, leftOut, reason);
  }

  /**
   * The parameters: config keys that take more than one value over the runs, but for run-specific
   * ones and words that differ in every run (an identifier).
   */
  private static List<Feature> features(List<Observation> runs, Map<String, String> leftOut) {
    TreeSet<String> keys = new TreeSet<>();
    for (Observation o : runs) {
      keys.addAll(o.config().keySet());
    }
    List<Feature> out = new ArrayList<>();
    for (String k : keys) {
      if (RUN_SPECIFIC.matcher(k).find()) {
        continue;
      }
      Object[] v = new Object[runs.size()];
      boolean numeric = true;
      for (int i = 0; i < v.length; i++) {
        Object x = runs.get(i).config().get(k);
        v[i] = x;
        numeric &= x == null || x instanceof Number;
      }
      TreeSet<String> distinct = new TreeSet<>();
      for (Object x : v) {
        distinct.add(x == null ? null + "" : numeric ? Double.toString(number(x)) : x.toString());
      }
      if (distinct.size() < 2) {
        continue;
      }
      if (!numeric && distinct.size() == runs.size() && runs.size() >= 4) {
        leftOut.put(k, "a different value in every run");
        continue;
      }
      out.add(new Feature(k, numeric, v));
    }
    return out;
  }

  private static double number(Object x) {
    return ((Number) x).doubleValue();
  }

  /** A config key's values over the runs and its forest columns. */
  private record Feature(String key, boolean numeric, Object[] values) {
    private static final String MISSING = "(none)";

    /**
     * A number is one column, a missing value below every number (one split parts the runs without
     * it); words are a 0/1 column per value.
     */
    List<double[]> columns() {
      if (numeric) {
        double[] c = new double[values.length];
        for (int i = 0; i < c.length; i++) {
          c[i] = values[i] == null ? Double.NEGATIVE_INFINITY : number(values[i]);
        }
        return List.of(c);
      }
      List<double[]> cs = new ArrayList<>();
      for (String w : words().keySet()) {
        double[] c = new double[values.length];
        for (int i = 0; i < c.length; i++) {
          c[i] = word(i).equals(w) ? 1 : 0;
        }
        cs.add(c);
      }
      return cs;
    }

    private String word(int i) {
      return values[i] == null ? MISSING : values[i].toString();
    }

    /** Each word's runs, in order of first appearance. */
    private Map<String, List<Integer>> words() {
      Map<String, List<Integer>> w = new LinkedHashMap<>();
      for (int i = 0; i < values.length; i++) {
        w.computeIfAbsent(word(i), s -> new ArrayList<>()).add(i);
      }
      return w;
    }

    Parameter describe(double importance, double[] y) {
      int missing = 0;
      for (Object v : values) {
        missing += v == null ? 1 : 0;
      }
      if (!numeric) {
        List<ValueMean> means = new ArrayList<>();
        for (var e : words().entrySet()) {
          double s = 0;
          for (int i : e.getValue()) {
            s += y[i];
          }
          means.add(new ValueMean(e.getKey(), s / e.getValue().size(), e.getValue().size()));
        }
        means.sort(Comparator.comparingDouble(ValueMean::mean).reversed());
        return new Parameter(key, false, importance, null, null, null, means, missing);
      }
      List<double[]> pairs = new ArrayList<>();
      for (int i = 0; i < values.length; i++) {
        if (values[i] != null) {
          pairs.add(new double[] {number(values[i]), y[i]});
        }
      }
      double[] xs = pairs.stream().mapToDouble(p -> p[0]).toArray();
      double[] ys = pairs.stream().mapToDouble(p -> p[1]).toArray();
      double rho = spearman(xs, ys);
      return new Parameter(
          key,
          true,
          importance,
          Double.isNaN(rho) ? null : rho,
          Arrays.stream(xs).min().orElse(Double.NaN),
          Arrays.stream(xs).max().orElse(Double.NaN),
          List.of(),
          missing);
    }
  }

  /**
   * Spearman's rank correlation: Pearson's of the ranks, ties given their mean rank; NaN with fewer
   * than 3 pairs or when either side is constant.
   */
  public static double spearman(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "x and y must have the same length, got " + x.length + " and " + y.length);
    }
    if (x.length < 3) {
      return Double.NaN;
    }
    return pearson(ranks(x), ranks(y));
  }

  static double[] ranks(double[] v) {
    Integer[] order = new Integer[v.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
    double[] r = new double[v.length];
    for (int a = 0; a < order.length; ) {
      int b = a;
      while (b + 1 < order.length && v[order[b + 1]] == v[order[a]]) {
        b++;
      }
      double mean = (a + b) / 2.0 + 1;
      for (int k = a; k <= b; k++) {
        r[order[k]] = mean;
      }
      a = b + 1;
    }
    return r;
  }

  static double pearson(double[] x, double[] y) {
    double mx = Arrays.stream(x).average().orElse(0);
    double my = Arrays.stream(y).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
  }
}
