package dev.normlab.cli;

import dev.normlab.track.analysis.ParameterImportance;
import dev.normlab.track.system.ProcessSample;
import dev.normlab.train.MedianStopping;
import dev.normlab.train.NumericalFaultException;
import dev.normlab.train.TrainBench;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.Trainer;
import dev.normlab.train.TrainingListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What {@code compare} and {@code sweep} share: several runs of the reference CNN in one group —
 * each norm at each point of a grid (compare's grid is one empty point) and each seed — trained
 * seed by seed, point by point, so that an interrupted series leaves whole comparisons; and the
 * tables that end it.
 */
final class RunSeries {
  @Option(
      names = "--norms",
      defaultValue = "none,batch,instance,layer,group",
      split = ",",
      description = "norms to compare (default: ${DEFAULT-VALUE})")
  List<String> norms;

  @Option(
      names = "--group",
      description = "run group in the store (default: <command>-<dataset>-<time>)")
  String group;

  @Option(
      names = "--quick",
      description =
          "a quick version: 1 epoch on the first 6,400 training images (100 batches of 64)")
  boolean quick;

  @Option(
      names = "--seeds",
      split = ",",
      paramLabel = "S1,S2,...",
      description =
          "train each norm once per seed (instead of --seed); the table then adds each norm's"
              + " mean, standard deviation and range over the seeds")
  List<Long> seeds;

  @Option(
      names = "--warmup-steps",
      defaultValue = "4",
      description =
          "untimed training steps of each norm's model on random batches before the first run (not"
              + " recorded), so that the runs' times and images/s do not carry the JIT's warm-up"
              + " (default: ${DEFAULT-VALUE}; 0: none)")
  int warmupSteps;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** One point of a sweep's grid: option name (without dashes) to the value given for it. */
  record Point(Map<String, String> values) {
    static final Point NONE = new Point(Map.of());

    /** For messages: {@code lr=0.01, batch_size=32}. */
    String describe() {
      return String.join(", ", pairs());
    }

    /** The config keys and values, as run names show them: {@code -lr=0.01-batch_size=32}. */
    String suffix() {
      return pairs().stream().map(p -> "-" + p).collect(Collectors.joining());
    }

    private List<String> pairs() {
      return values.entrySet().stream()
          .map(e -> configKey(e.getKey()) + "=" + e.getValue())
          .toList();
    }
  }

  /**
   * A run of the series: its norm, seed and grid point, and its result — or, when its loss or
   * weights went NaN/Inf, the step at which it diverged (result null); {@code stoppedAfter}: the
   * epoch after which early stopping ended it (0: it ran every epoch); {@code watched}: with
   * --watch, the statistics of its last watched step (empty otherwise).
   */
  record Run(
      String norm,
      long seed,
      Point point,
      TrainResult result,
      long divergedAt,
      int stoppedAfter,
      LastWatch watched) {
    static Run finished(
        String norm,
        long seed,
        Point point,
        TrainResult result,
        int stoppedAfter,
        LastWatch watched) {
      return new Run(norm, seed, point, result, 0, stoppedAfter, watched);
    }

    boolean diverged() {
      return result == null;
    }

    double accuracy() {
      return result.last().testAccuracy();
    }

    double loss() {
      return result.last().testLoss();
    }

    /** Norm and point: the runs that differ only in their seed share it. */
    String setting() {
      return norm + point.suffix();
    }
  }

  /**
   * The name a config (and the table's column) gives an option: {@code batch-size -> batch_size}.
   */
  static String configKey(String optionName) {
    return optionName.replace('-', '_');
  }

  /** Applies --quick and checks the series' own options; call before anything else. */
  void prepare(TrainOptions opts) {
    if (quick) {
      opts.epochs = 1;
      if (opts.limitTrain == 0) {
        opts.limitTrain = 6_400;
      }
    }
    if (warmupSteps < 0) {
      throw new ParameterException(spec.commandLine(), "--warmup-steps must be >= 0");
    }
    if (opts.resume && group == null) { // the default group is new each time: nothing to resume
      throw new ParameterException(
          spec.commandLine(),
          "--resume continues a series by its group: give --group NAME (the one it ran with)");
    }
    if (new HashSet<>(norms).size() != norms.size()) { // two runs would share a name
      throw new ParameterException(spec.commandLine(), "--norms repeats a norm: " + norms);
    }
  }

  /** The seeds to train with: --seeds, or --seed alone; both at once is a usage error. */
  List<Long> seedList(TrainOptions opts) {
    if (seeds == null) {
      return List.of(opts.seed);
    }
    if (spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
      throw new ParameterException(spec.commandLine(), "give --seed or --seeds, not both");
    }
    if (new HashSet<>(seeds).size() != seeds.size()) {
      throw new ParameterException(spec.commandLine(), "--seeds repeats a seed: " + seeds);
    }
    return seeds;
  }

  /** --group, or {@code <command>-<dataset>-<time>}. */
  String groupName(TrainOptions opts) {
    return group != null ? group : defaultGroup(spec.name(), opts.dataset);
  }

  /** {@code <command>-<dataset>-<time>}: a series' group when none is given. */
  static String defaultGroup(String command, String dataset) {
    return command
        + "-"
        + dataset
        + "-"
        + java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-');
  }

  /**
   * Trains each norm at each point, seed by seed and point by point; {@code apply} sets a point's
   * values into {@code opts} before its runs. Runs are named {@code
   * <group>-<norm><point>[-s<seed>]}.
   */
  List<Run> train(
      TrainOptions opts,
      String g,
      List<Point> points,
      Consumer<Point> apply,
      Tracking tracking,
      List<Long> seedList,
      MedianStopping stopping)
      throws IOException {
    boolean perSeed = seedList.size() > 1;
    warmUp(opts);
    List<Run> runs = new ArrayList<>();
    for (long seed : seedList) {
      for (Point p : points) {
        apply.accept(p);
        opts.seed = seed;
        for (String norm : norms) {
          String label = norm + p.suffix() + (perSeed ? "-s" + seed : "");
          String runName = g + "-" + label;
          var found = LrFromRangeTest.ifAsked(opts, opts.config(norm, runName), label, System.out);
          TrainConfig config = found.config();
          MedianStopping.Rule rule = stopping == null ? null : stopping.rule(norm);
          LastWatch watched = new LastWatch();
          TrainingListener l =
              TrainingListener.all(
                  new ConsoleListener(label, System.out, System.err),
                  new MetricsCsv(MetricsCsv.fileFor(opts.out, g), label),
                  tracking.listener(runName, g, config, found.recorded()),
                  rule == null ? new TrainingListener() {} : rule,
                  watched);
          try {
            TrainResult result = new Trainer(config, l).run();
            int stoppedAfter = rule == null ? 0 : rule.stoppedAfter();
            if (stoppedAfter > 0) {
              System.err.printf(
                  "[%s] stopped early after epoch %d: %s%n", label, stoppedAfter, rule.why());
            }
            if (stopping != null) {
              stopping.record(norm, result);
            }
            runs.add(Run.finished(norm, seed, p, result, stoppedAfter, watched));
          } catch (NumericalFaultException e) {
            // A diverging run is a result of the series, not its end: record it and go on.
            System.err.printf("[%s] diverged: %s%n", label, e.getMessage());
            runs.add(new Run(norm, seed, p, null, e.step(), 0, watched));
          }
        }
      }
    }
    return runs;
  }

  /**
   * Steps of each compared model on random batches (their own generator: the runs' numbers do not
   * change): the JIT compiles the convolution, GEMM, pooling and dropout code that every run
   * shares, and each norm's kernels, which would otherwise slow a run's first steps several times
   * over (Layer Norm's first step ran at about 100 images/s).
   */
  private void warmUp(TrainOptions opts) {
    if (warmupSteps <= 0) {
      return;
    }
    TrainConfig c = opts.config(norms.get(0), "warm-up");
    System.err.printf(
        "warming up: %d untimed steps of each model on random batches...%n", warmupSteps);
    for (String norm : norms) {
      TrainBench.warmUp(norm, c.batchSize(), warmupSteps, c.threads());
    }
  }

  /** The table, the seed summary with several seeds, and where everything went. */
  static void printEnd(
      List<RunSeries.Run> runs, boolean perSeed, String g, TrainOptions opts, Tracking tracking) {
    System.out.println();
    System.out.println(table(runs, perSeed));
    if (perSeed) {
      System.out.println(seedSummary(runs));
    }
    if (opts.watchEvery > 0) {
      System.out.println(watchTable(runs, perSeed));
    }
    if (opts.lrFind) {
      System.out.println(foundLrs(runs));
    }
    if (opts.lrForBatch != null) {
      System.out.println(scaledLrs(runs, opts.lrForBatch));
    }
    String diverged = divergedNote(runs);
    if (!diverged.isEmpty()) {
      System.out.println(diverged);
    }
    printPeakMemory(System.out);
    tracking.printWhere(System.out);
    if (!opts.noTrack) {
      String store = tracking.storeOption();
      System.out.println(
          "report:      ./normlab report --group " + g + store + " --out report.html");
      System.out.println("robustness:  ./normlab robustness --group " + g + store);
      System.out.println("activations: ./normlab feature-maps --group " + g + store);
    }
    System.out.println("checkpoints: " + opts.out.resolve("checkpoints").toAbsolutePath());
    System.out.println("metrics:     " + MetricsCsv.fileFor(opts.out, g).toAbsolutePath());
  }

  /** With --lr-find: the lr each run trained at. */
  static String foundLrs(List<Run> runs) {
    StringBuilder sb = new StringBuilder("lr from the range test:");
    for (Run r : runs) {
      if (!r.diverged()) {
        sb.append(' ')
            .append(r.norm())
            .append(' ')
            .append(LrFindCommand.lr(r.result().config().optim().lr()));
      }
    }
    return sb.toString();
  }

  /**
   * With --lr-for-batch: the lr each batch size trained at, smallest batch first — a line per lr as
   * given when the sweep varies that too.
   */
  static String scaledLrs(List<Run> runs, int baseBatch) {
    Map<String, java.util.TreeMap<Integer, Double>> byBase = new LinkedHashMap<>();
    for (Run r : runs) {
      if (!r.diverged()) {
        TrainConfig c = r.result().config();
        String base = LrFindCommand.lr(c.optim().lr() * baseBatch / c.batchSize());
        byBase
            .computeIfAbsent(base, b -> new java.util.TreeMap<>())
            .put(c.batchSize(), c.optim().lr());
      }
    }
    StringBuilder sb = new StringBuilder();
    byBase.forEach(
        (base, lrs) -> {
          sb.append(sb.isEmpty() ? "" : "\n")
              .append(
                  String.format(
                      "lr by the linear scaling rule (%s for a batch of %d):", base, baseBatch));
          lrs.forEach(
              (b, lr) -> sb.append(" batch ").append(b).append(' ').append(LrFindCommand.lr(lr)));
        });
    return sb.toString();
  }

  /**
   * The process's peak resident memory so far (Linux), on the lines that say where results went.
   */
  static void printPeakMemory(java.io.PrintStream out) {
    long peak = ProcessSample.now().peakRssBytes();
    if (peak >= 0) {
      out.printf("peak memory: %d MiB resident (this process, all its runs)%n", peak >> 20);
    }
  }

  /**
   * One row per run: norm, the swept values, the seed (with several), accuracy, loss, time; a
   * diverged run says so and at which step.
   */
  static String table(List<Run> runs, boolean withSeed) {
    List<String> keys = keys(runs);
    StringBuilder sb = new StringBuilder();
    headingStart(sb, keys, withSeed);
    sb.append(
        String.format(
            "%14s %10s %12s %12s%n", "test acc (%)", "test loss", "train time", "images/s"));
    for (Run run : runs) {
      rowStart(sb, run, keys, withSeed);
      if (run.diverged()) {
        sb.append(String.format("%14s %10s%n", "diverged", "step " + run.divergedAt()));
        continue;
      }
      sb.append(
          String.format(
              "%14.2f %10.4f %12s %12.0f%s%n",
              run.accuracy(),
              run.loss(),
              ConsoleListener.hms(run.result().trainSeconds()),
              run.result().last().imagesPerSecond(),
              run.stoppedAfter() == 0
                  ? ""
                  : "  stopped after epoch "
                      + run.stoppedAfter()
                      + " of "
                      + run.result().config().epochs()));
    }
    return sb.toString();
  }

  /** A table's first columns: norm, the swept options, the seed (with several). */
  private static void headingStart(StringBuilder sb, List<String> keys, boolean withSeed) {
    sb.append(String.format("%-10s ", "norm"));
    keys.forEach(k -> sb.append(String.format("%12s ", configKey(k))));
    if (withSeed) {
      sb.append(String.format("%6s ", "seed"));
    }
  }

  /** A run's row in those columns. */
  private static void rowStart(StringBuilder sb, Run run, List<String> keys, boolean withSeed) {
    sb.append(String.format("%-10s ", run.norm()));
    keys.forEach(k -> sb.append(String.format("%12s ", run.point().values().get(k))));
    if (withSeed) {
      sb.append(String.format("%6d ", run.seed()));
    }
  }

  /** Keeps a run's last {@code --watch} statistics, for the table at the end. */
  static final class LastWatch implements TrainingListener {
    long step;
    Map<String, Double> stats = Map.of();

    @Override
    public void onWatch(long s, Map<String, Double> st) {
      step = s;
      stats = st;
    }
  }

  /** The watch table's columns: heading and key. */
  private static final String[][] WATCHED = {
    {"conv2 std", "watch/act_std/conv2"},
    {"norm2 std", "watch/act_std/norm2"},
    {"dead norm2", "watch/dead_relu/norm2"},
    {"dead fc1", "watch/dead_relu/fc1"},
    {"grad norm", "watch/grad_norm/total"},
    {"fc1 update", "watch/update_ratio/fc1.weight"},
  };

  /**
   * With --watch, what each run's network looked like at its last watched step: the scale the
   * second norm receives and gives, the share of dead ReLUs after it and after fc1, the gradient's
   * norm and how far a step moved fc1's weights (their update ratio).
   */
  static String watchTable(List<Run> runs, boolean withSeed) {
    List<String> keys = keys(runs);
    StringBuilder sb = new StringBuilder("inside the network at the last watched step (--watch)\n");
    headingStart(sb, keys, withSeed);
    sb.append(String.format("%7s", "step"));
    for (String[] c : WATCHED) {
      sb.append(String.format(" %11s", c[0]));
    }
    sb.append('\n');
    for (Run run : runs) {
      rowStart(sb, run, keys, withSeed);
      Map<String, Double> st = run.watched().stats;
      sb.append(String.format("%7s", st.isEmpty() ? "-" : Long.toString(run.watched().step)));
      for (String[] c : WATCHED) {
        Double v = st.get(c[1]);
        String cell =
            v == null
                ? "-"
                : c[1].contains("dead_relu")
                    ? String.format("%.1f%%", 100 * v)
                    : c[1].contains("update_ratio")
                        ? String.format("%.2e", v)
                        : String.format("%.3f", v);
        sb.append(String.format(" %11s", cell));
      }
      sb.append('\n');
    }
    if (runs.stream().anyMatch(r -> !r.diverged() && r.watched().stats.isEmpty())) {
      sb.append("(-: no step watched in this command: the run was complete before it resumed)\n");
    }
    return sb.toString();
  }

  /**
   * Per setting (a norm at a point) over its seeds: mean test accuracy, its sample standard
   * deviation, lowest and highest, and the mean test loss, so that a difference between settings
   * can be set against the spread of one setting's seeds. Diverged runs are counted apart.
   */
  static String seedSummary(List<Run> runs) {
    Map<String, List<Run>> bySetting = new LinkedHashMap<>();
    runs.forEach(r -> bySetting.computeIfAbsent(r.setting(), k -> new ArrayList<>()).add(r));
    int width = Math.max(10, bySetting.keySet().stream().mapToInt(String::length).max().orElse(0));
    String row = "%-" + width + "s %5s %14s %8s %8s %8s %10s %8s%n";
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            row, "norm", "seeds", "mean acc (%)", "std", "min", "max", "mean loss", "diverged"));
    bySetting.forEach(
        (setting, rs) -> {
          Stats acc = Stats.of(rs, Run::accuracy);
          sb.append(
              String.format(
                  row,
                  setting,
                  acc.n(),
                  Stats.fmt(acc.mean(), 2),
                  Stats.fmt(acc.std(), 2),
                  Stats.fmt(acc.min(), 2),
                  Stats.fmt(acc.max(), 2),
                  Stats.fmt(Stats.of(rs, Run::loss).mean(), 4),
                  rs.size() - acc.n()));
        });
    return sb.toString();
  }

  /** Mean, sample standard deviation, lowest and highest of the finished runs' values. */
  record Stats(int n, double mean, double std, double min, double max) {
    static Stats of(List<Run> runs, ToDoubleFunction<Run> value) {
      double[] v = runs.stream().filter(r -> !r.diverged()).mapToDouble(value).toArray();
      double mean = Arrays.stream(v).average().orElse(Double.NaN);
      double ss = Arrays.stream(v).map(a -> (a - mean) * (a - mean)).sum();
      return new Stats(
          v.length,
          mean,
          v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : Double.NaN,
          Arrays.stream(v).min().orElse(Double.NaN),
          Arrays.stream(v).max().orElse(Double.NaN));
    }

    /** {@code digits} decimals, or "-" when there is no value (every run diverged). */
    static String fmt(double v, int digits) {
      return Double.isNaN(v) ? "-" : String.format("%." + digits + "f", v);
    }
  }

  /** How many runs diverged, for the series' end; empty when none did. */
  static String divergedNote(List<Run> runs) {
    long n = runs.stream().filter(Run::diverged).count();
    return n == 0
        ? ""
        : n
            + " of "
            + runs.size()
            + " runs diverged (loss or weights NaN/Inf; failed in the store)";
  }

  /** The swept option names, in the order the points give them. */
  static List<String> keys(List<Run> runs) {
    return runs.isEmpty() ? List.of() : List.copyOf(runs.get(0).point().values().keySet());
  }

  /**
   * Which options test accuracy depends on (a sweep's, the norm, the seed): {@link
   * ParameterImportance}'s random-forest shares, with Spearman's correlation for numbers and each
   * word's mean accuracy; empty when nothing varies or fewer than 3 runs finished.
   */
  static String importance(List<RunSeries.Run> runs) {
    List<ParameterImportance.Observation> obs = new ArrayList<>();
    for (RunSeries.Run r : runs) {
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("norm", r.norm());
      config.put("seed", r.seed());
      r.point().values().forEach((k, v) -> config.put(RunSeries.configKey(k), scalar(v)));
      obs.add(
          new ParameterImportance.Observation(config, r.diverged() ? Double.NaN : r.accuracy()));
    }
    ParameterImportance.Result res = ParameterImportance.of("test accuracy", obs);
    return res.parameters().isEmpty() ? "" : importanceBlock(res, "finished runs", "mean acc (%)");
  }

  /**
   * A result of {@link ParameterImportance} as lines: the header (over how many {@code runsNoun},
   * the out-of-bag R²), then a line per parameter, its share and Spearman's correlation, or for
   * words each value's mean ({@code meanLabel}).
   */
  static String importanceBlock(ParameterImportance.Result res, String runsNoun, String meanLabel) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "parameter importance for %s (random forest over %d %s; out-of-bag R² %s):%n",
            res.metric(),
            res.runs(),
            runsNoun,
            res.outOfBagR2() == null ? "-" : String.format(Locale.ROOT, "%.2f", res.outOfBagR2())));
    for (ParameterImportance.Parameter p : res.parameters()) {
      String detail;
      if (p.numeric()) {
        detail =
            "Spearman "
                + RunSeries.Stats.fmt(p.correlation() == null ? Double.NaN : p.correlation(), 2);
      } else {
        List<String> vs = new ArrayList<>();
        for (ParameterImportance.ValueMean v : p.values()) {
          vs.add(String.format(Locale.ROOT, "%s %.4g", v.value(), v.mean()));
        }
        detail = meanLabel + " " + String.join(", ", vs);
      }
      sb.append(
          String.format(Locale.ROOT, "  %-14s %5.2f   %s%n", p.key(), p.importance(), detail));
    }
    return sb.toString();
  }

  /** A swept value as the config stores it: a number, a boolean or words. */
  private static Object scalar(String v) {
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      return v;
    }
  }
}
