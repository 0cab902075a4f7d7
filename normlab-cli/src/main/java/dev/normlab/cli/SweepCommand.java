package dev.normlab.cli;

import dev.normlab.train.MedianStopping;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code normlab sweep}: a grid search. Every combination of the {@code --param} values, each with
 * every norm (and seed), as runs of one group — whose varying config keys the dashboard's parallel
 * coordinates then draw against accuracy and loss.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Train the reference CNN at every combination of the --param values, once per norm (and"
          + " seed), in one group, and compare.",
      "Example: normlab sweep --quick --norms batch,group --param lr=0.003,0.01,0.03 --param"
          + " batch-size=32,64"
    })
final class SweepCommand implements Callable<Integer> {
  /** The options a sweep may vary: the hyperparameters of one run, not where it writes. */
  static final List<String> SWEEPABLE =
      List.of(
          "lr",
          "momentum",
          "dampening",
          "nesterov",
          "weight-decay",
          "optimizer",
          "eps",
          "scheduler",
          "step-size",
          "gamma",
          "t-max",
          "eta-min",
          "batch-size",
          "groups",
          "epochs",
          "random-crop",
          "hflip",
          "limit-train",
          "dataset");

  @Mixin TrainOptions opts = new TrainOptions();

  @Mixin RunSeries series = new RunSeries();

  @Spec CommandSpec spec;

  @Option(
      names = "--param",
      required = true,
      paramLabel = "NAME=V1,V2,...",
      description =
          "an option to sweep and its values, e.g. lr=0.003,0.01,0.03 (with --random also a"
              + " range, lr=0.001..0.1:log); repeat for a grid over several (the first varies"
              + " slowest). NAME is a train option without its dashes"
              + " or its config key (batch-size or batch_size): lr, momentum, dampening, nesterov,"
              + " weight-decay, optimizer, eps, scheduler, step-size, gamma, t-max, eta-min,"
              + " batch-size, groups, epochs, random-crop, hflip, limit-train, dataset")
  List<String> params;

  @Option(
      names = "--random",
      paramLabel = "N",
      description =
          "random search: N points drawn from the --param values instead of every combination;"
              + " a value may then also be a range, MIN..MAX (uniform) or MIN..MAX:log"
              + " (log-uniform), e.g. lr=0.001..0.1:log")
  Integer random;

  @Option(
      names = "--stop-early",
      description =
          "median stopping: a run whose test accuracy after an epoch is below the median of the"
              + " earlier runs of its norm after that epoch (at least 3 of them) stops there")
  boolean stopEarly;

  @Option(
      names = "--stop-early-from",
      paramLabel = "EPOCH",
      description =
          "with --stop-early: the first epoch after which a run may be stopped (default: 1)")
  Integer stopEarlyFrom;

  @Option(
      names = "--sweep-seed",
      defaultValue = "0",
      description = "seed of --random's draws (default: ${DEFAULT-VALUE})")
  long sweepSeed;

  @Override
  public Integer call() throws Exception {
    series.prepare(opts);
    Map<String, Param> grid = parseParams();
    MedianStopping stopping = stopping(grid);
    List<RunSeries.Point> points = random == null ? points(grid) : randomPoints(grid);
    for (RunSeries.Point p : points) { // every combination is valid before anything trains
      apply(p);
      for (String n : series.norms) {
        try {
          opts.config(n, "check");
        } catch (ParameterException e) {
          throw points.size() == 1 ? e : usage("at " + p.describe() + ": " + e.getMessage());
        }
      }
    }
    List<Long> seeds = series.seedList(opts);
    System.err.printf(
        "sweep: %d %spoint%s x %d norm%s x %d seed%s = %d runs%n",
        points.size(),
        random == null ? "" : "random ",
        points.size() == 1 ? "" : "s",
        series.norms.size(),
        series.norms.size() == 1 ? "" : "s",
        seeds.size(),
        seeds.size() == 1 ? "" : "s",
        points.size() * series.norms.size() * seeds.size());
    String g = series.groupName(opts);
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      List<RunSeries.Run> runs =
          series.train(opts, g, points, this::apply, tracking, seeds, stopping);
      RunSeries.printEnd(runs, seeds.size() > 1, g, opts, tracking);
      System.out.println();
      System.out.print(byValue(runs, grid));
    }
    return 0;
  }

  /** The early-stopping rule, or null without --stop-early; its options checked. */
  private MedianStopping stopping(Map<String, Param> grid) {
    if (!stopEarly) {
      if (stopEarlyFrom != null) {
        throw usage("--stop-early-from needs --stop-early");
      }
      return null;
    }
    if (stopEarlyFrom != null && stopEarlyFrom < 1) {
      throw usage("--stop-early-from must be >= 1, got " + stopEarlyFrom);
    }
    if (opts.epochs == 1 && !grid.containsKey("epochs")) {
      throw usage("--stop-early stops runs between epochs: it needs --epochs 2 or more");
    }
    return new MedianStopping(stopEarlyFrom == null ? 1 : stopEarlyFrom);
  }

  /**
   * One --param: a list of values, or (with --random) a range MIN..MAX drawn uniformly or, with
   * {@code log}, log-uniformly.
   */
  record Param(String name, List<String> values, double min, double max, boolean log) {
    boolean isRange() {
      return values == null;
    }

    /** How the param was given, for the tables: {@code 0.001..0.1:log} or the list. */
    String describe() {
      return isRange()
          ? fmt(min) + ".." + fmt(max) + (log ? ":log" : "")
          : String.join(",", values);
    }
  }

  private static final Pattern RANGE = Pattern.compile("([^,]+)\\.\\.([^,:]+)(:log)?");

  /**
   * --param NAME=V1,V2,... or NAME=MIN..MAX[:log], in the order given; a bad name, value, range or
   * repeat is a usage error.
   */
  private Map<String, Param> parseParams() {
    if (random != null && random < 1) {
      throw usage("--random must be >= 1, got " + random);
    }
    if (random == null && spec.commandLine().getParseResult().hasMatchedOption("--sweep-seed")) {
      throw usage("--sweep-seed seeds --random's draws; give --random N too");
    }
    Map<String, Param> grid = new LinkedHashMap<>();
    for (String param : params) {
      int eq = param.indexOf('=');
      if (eq <= 0) {
        throw usage("--param takes NAME=V1,V2,... (e.g. lr=0.003,0.01), got '" + param + "'");
      }
      String name =
          param
              .substring(0, eq)
              .trim()
              .replaceFirst("^-+", "")
              .replace('_', '-')
              .toLowerCase(Locale.ROOT);
      checkName(name, grid);
      String text = param.substring(eq + 1).trim();
      Matcher range = RANGE.matcher(text);
      grid.put(name, range.matches() ? range(name, text, range) : list(name, param, text));
    }
    return grid;
  }

  private void checkName(String name, Map<String, Param> grid) {
    if (name.equals("seed") || name.equals("seeds")) {
      throw usage("sweep seeds with --seeds S1,S2,..., not --param");
    }
    if (name.equals("norm") || name.equals("norms")) {
      throw usage("sweep norms with --norms, not --param");
    }
    if (!SWEEPABLE.contains(name)) {
      throw usage(
          "--param "
              + name
              + ": not an option a sweep can vary; these can: "
              + String.join(", ", SWEEPABLE));
    }
    if (grid.containsKey(name)) {
      throw usage("--param " + name + " is given twice; list all its values in one");
    }
    if (spec.commandLine().getParseResult().hasMatchedOption("--" + name)) {
      throw usage("--" + name + " is swept by --param " + name + "; give its values there only");
    }
  }

  private Param list(String name, String param, String text) {
    List<String> values = new ArrayList<>();
    for (String v : text.split(",", -1)) {
      values.add(v.trim());
    }
    if (values.stream().anyMatch(v -> v.isEmpty() || v.contains("/"))) {
      throw usage("--param " + name + ": empty or bad value in '" + param + "'");
    }
    if (new HashSet<>(values).size() != values.size()) {
      throw usage("--param " + name + " repeats a value: " + values);
    }
    values.forEach(v -> convert(name, v)); // a value of the wrong type fails here
    return new Param(name, List.copyOf(values), 0, 0, false);
  }

  private Param range(String name, String text, Matcher m) {
    Class<?> type = option(name).type();
    boolean integer = type == int.class || type == Integer.class;
    if (!integer && type != double.class && type != Double.class) {
      throw usage("--param " + name + ": a range needs a numeric option; list the values instead");
    }
    if (random == null) {
      throw usage(
          "--param " + name + "=" + text + " is a range: give --random N (a grid takes a list)");
    }
    double min = ((Number) convert(name, m.group(1).trim())).doubleValue();
    double max = ((Number) convert(name, m.group(2).trim())).doubleValue();
    boolean log = m.group(3) != null;
    if (!(min < max)) {
      throw usage("--param " + name + ": a range needs MIN < MAX, got " + text);
    }
    if (log && min <= 0) {
      throw usage("--param " + name + ": a log range needs MIN > 0, got " + text);
    }
    return new Param(name, null, min, max, log);
  }

  /** Every combination, the first parameter varying slowest. */
  static List<RunSeries.Point> points(Map<String, Param> grid) {
    List<Map<String, String>> acc = new ArrayList<>();
    acc.add(new LinkedHashMap<>());
    for (Map.Entry<String, Param> e : grid.entrySet()) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> partial : acc) {
        for (String v : e.getValue().values()) {
          Map<String, String> m = new LinkedHashMap<>(partial);
          m.put(e.getKey(), v);
          next.add(m);
        }
      }
      acc = next;
    }
    return acc.stream().map(RunSeries.Point::new).toList();
  }

  /**
   * --random N distinct points: each list param takes one of its values, each range param a uniform
   * (or log-uniform) draw rounded to 3 significant digits, so that the run name shows the value the
   * run trained with. The draws depend on --sweep-seed only.
   */
  private List<RunSeries.Point> randomPoints(Map<String, Param> grid) {
    SplittableRandom rng = new SplittableRandom(sweepSeed);
    Set<Map<String, String>> seen = new HashSet<>();
    List<RunSeries.Point> points = new ArrayList<>();
    for (int draws = 0; points.size() < random; draws++) {
      if (draws == 100 * random) {
        throw usage(
            "--random "
                + random
                + ": only "
                + points.size()
                + " distinct points could be drawn from these values");
      }
      Map<String, String> p = new LinkedHashMap<>();
      grid.forEach((name, param) -> p.put(name, draw(param, rng)));
      if (seen.add(p)) {
        points.add(new RunSeries.Point(p));
      }
    }
    return points;
  }

  private String draw(Param p, SplittableRandom rng) {
    if (!p.isRange()) {
      return p.values().get(rng.nextInt(p.values().size()));
    }
    Class<?> type = option(p.name()).type();
    if (type == int.class || type == Integer.class) {
      int lo = (int) p.min(), hi = (int) p.max();
      if (!p.log()) {
        return Integer.toString(lo + rng.nextInt(hi - lo + 1));
      }
      double x = Math.exp(rng.nextDouble(Math.log(lo), Math.log(hi + 1.0)));
      return Integer.toString(Math.min(hi, (int) Math.floor(x)));
    }
    double x =
        p.log()
            ? Math.exp(rng.nextDouble(Math.log(p.min()), Math.log(p.max())))
            : rng.nextDouble(p.min(), p.max());
    return fmt(x);
  }

  /** 3 significant digits, no exponent, no trailing zeros: 0.00412, 0.1, 25. */
  static String fmt(double x) {
    return new BigDecimal(x).round(new MathContext(3)).stripTrailingZeros().toPlainString();
  }

  /** Sets a point's values into the options, as if given on the command line. */
  private void apply(RunSeries.Point p) {
    p.values().forEach((name, v) -> option(name).setValue(convert(name, v)));
  }

  private OptionSpec option(String name) {
    return spec.findOption("--" + name);
  }

  private Object convert(String name, String v) {
    Class<?> type = option(name).type();
    try {
      if (type == Double.class || type == double.class) {
        return Double.parseDouble(v);
      }
      if (type == Integer.class || type == int.class) {
        return Integer.parseInt(v);
      }
      if (type == boolean.class || type == Boolean.class) {
        if (!v.equals("true") && !v.equals("false")) {
          throw new NumberFormatException();
        }
        return Boolean.parseBoolean(v);
      }
      return v;
    } catch (NumberFormatException e) {
      String what =
          type == boolean.class || type == Boolean.class
              ? "true or false"
              : type == Double.class || type == double.class ? "a number" : "an integer";
      throw usage("--param " + name + ": '" + v + "' is not " + what);
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /**
   * Per listed value: how many runs had it, how many diverged, the finished ones' mean and best
   * test accuracy — each parameter seen on its own, over the norms, the other parameters and the
   * seeds; per range: the Spearman rank correlation of the drawn value with test accuracy; then the
   * best run.
   */
  static String byValue(List<RunSeries.Run> runs, Map<String, Param> grid) {
    String row = "%-14s %12s %5s %8s %14s %14s%n";
    StringBuilder sb = new StringBuilder();
    if (grid.values().stream().anyMatch(p -> !p.isRange())) {
      sb.append(
          String.format(row, "param", "value", "runs", "diverged", "mean acc (%)", "best (%)"));
    }
    grid.forEach(
        (name, param) -> {
          if (param.isRange()) {
            return;
          }
          for (String v : param.values()) {
            List<RunSeries.Run> had =
                runs.stream().filter(r -> v.equals(r.point().values().get(name))).toList();
            RunSeries.Stats acc = RunSeries.Stats.of(had, RunSeries.Run::accuracy);
            sb.append(
                String.format(
                    row,
                    RunSeries.configKey(name),
                    v,
                    had.size(),
                    had.size() - acc.n(),
                    RunSeries.Stats.fmt(acc.mean(), 2),
                    RunSeries.Stats.fmt(acc.max(), 2)));
          }
        });
    sb.append(RunSeries.importance(runs));
    runs.stream()
        .filter(r -> !r.diverged())
        .max(Comparator.comparingDouble(RunSeries.Run::accuracy))
        .ifPresentOrElse(
            best ->
                sb.append(
                    String.format(
                        "best run: %s (seed %d) %.2f %%, test loss %.4f%n",
                        best.setting(), best.seed(), best.accuracy(), best.loss())),
            () -> sb.append("best run: none, every run diverged\n"));
    return sb.toString();
  }
}
