package dev.normlab.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
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
          "an option to sweep and its values, e.g. lr=0.003,0.01,0.03; repeat for a grid over"
              + " several (the first varies slowest). NAME is a train option without its dashes"
              + " or its config key (batch-size or batch_size): lr, momentum, dampening, nesterov,"
              + " weight-decay, optimizer, eps, scheduler, step-size, gamma, t-max, eta-min,"
              + " batch-size, groups, epochs, random-crop, hflip, limit-train, dataset")
  List<String> params;

  @Override
  public Integer call() throws Exception {
    series.prepare(opts);
    Map<String, List<String>> grid = parseGrid();
    List<RunSeries.Point> points = points(grid);
    for (RunSeries.Point p : points) { // every combination is valid before anything trains
      apply(p);
      for (String n : series.norms) {
        opts.config(n, "check");
      }
    }
    List<Long> seeds = series.seedList(opts);
    System.err.printf(
        "sweep: %d point%s x %d norm%s x %d seed%s = %d runs%n",
        points.size(),
        points.size() == 1 ? "" : "s",
        series.norms.size(),
        series.norms.size() == 1 ? "" : "s",
        seeds.size(),
        seeds.size() == 1 ? "" : "s",
        points.size() * series.norms.size() * seeds.size());
    String g = series.groupName(opts);
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      List<RunSeries.Run> runs = series.train(opts, g, points, this::apply, tracking, seeds);
      CompareCommand.printEnd(runs, seeds.size() > 1, g, opts, tracking);
      System.out.println();
      System.out.print(byValue(runs, grid));
    }
    return 0;
  }

  /**
   * --param NAME=V1,V2,... in the order given; a bad name, value list or repeat is a usage error.
   */
  private Map<String, List<String>> parseGrid() {
    Map<String, List<String>> grid = new LinkedHashMap<>();
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
      List<String> values = new ArrayList<>();
      for (String v : param.substring(eq + 1).split(",", -1)) {
        values.add(v.trim());
      }
      if (values.stream().anyMatch(v -> v.isEmpty() || v.contains("/"))) {
        throw usage("--param " + name + ": empty or bad value in '" + param + "'");
      }
      if (new HashSet<>(values).size() != values.size()) {
        throw usage("--param " + name + " repeats a value: " + values);
      }
      values.forEach(v -> convert(name, v)); // a value of the wrong type fails here
      grid.put(name, values);
    }
    return grid;
  }

  /** Every combination, the first parameter varying slowest. */
  static List<RunSeries.Point> points(Map<String, List<String>> grid) {
    List<Map<String, String>> acc = new ArrayList<>();
    acc.add(new LinkedHashMap<>());
    for (Map.Entry<String, List<String>> e : grid.entrySet()) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> partial : acc) {
        for (String v : e.getValue()) {
          Map<String, String> m = new LinkedHashMap<>(partial);
          m.put(e.getKey(), v);
          next.add(m);
        }
      }
      acc = next;
    }
    return acc.stream().map(RunSeries.Point::new).toList();
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
   * Per swept value: how many runs had it, how many diverged, the finished ones' mean and best test
   * accuracy — each parameter seen on its own, over the norms, the other parameters and the seeds;
   * then the best run.
   */
  static String byValue(List<RunSeries.Run> runs, Map<String, List<String>> grid) {
    String row = "%-14s %12s %5s %8s %14s %14s%n";
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(row, "param", "value", "runs", "diverged", "mean acc (%)", "best (%)"));
    grid.forEach(
        (name, values) -> {
          for (String v : values) {
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
