package dev.normlab.cli;

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
import java.util.Map;
import java.util.function.Consumer;
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

    /** The config keys and values, as run names show them: {@code -lr=0.01-batch_size=32}. */
    String suffix() {
      StringBuilder sb = new StringBuilder();
      values.forEach((k, v) -> sb.append('-').append(configKey(k)).append('=').append(v));
      return sb.toString();
    }
  }

  /** A finished run and the grid point it trained at. */
  record Run(TrainResult result, Point point) {
    String norm() {
      return result.config().norm();
    }

    /** Norm and point: the runs that differ only in their seed share it. */
    String setting() {
      return norm() + point.suffix();
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
    return group != null
        ? group
        : spec.name()
            + "-"
            + opts.dataset
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
      List<Long> seedList)
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
          TrainConfig config = opts.config(norm, runName);
          TrainingListener l =
              TrainingListener.all(
                  new ConsoleListener(label, System.out, System.err),
                  new MetricsCsv(MetricsCsv.fileFor(opts.out, g), label),
                  tracking.listener(runName, g, config));
          runs.add(new Run(new Trainer(config, l).run(), p));
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

  /** One row per run: norm, the swept values, the seed (with several), accuracy, loss, time. */
  static String table(List<Run> runs, boolean withSeed) {
    List<String> keys = keys(runs);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-10s ", "norm"));
    keys.forEach(k -> sb.append(String.format("%12s ", configKey(k))));
    if (withSeed) {
      sb.append(String.format("%6s ", "seed"));
    }
    sb.append(
        String.format(
            "%14s %10s %12s %12s%n", "test acc (%)", "test loss", "train time", "images/s"));
    for (Run run : runs) {
      TrainResult r = run.result();
      sb.append(String.format("%-10s ", run.norm()));
      keys.forEach(k -> sb.append(String.format("%12s ", run.point().values().get(k))));
      if (withSeed) {
        sb.append(String.format("%6d ", r.config().seed()));
      }
      sb.append(
          String.format(
              "%14.2f %10.4f %12s %12.0f%n",
              r.last().testAccuracy(),
              r.last().testLoss(),
              ConsoleListener.hms(r.trainSeconds()),
              r.last().imagesPerSecond()));
    }
    return sb.toString();
  }

  /**
   * Per setting (a norm at a point) over its seeds: mean test accuracy, its sample standard
   * deviation, lowest and highest, and the mean test loss, so that a difference between settings
   * can be set against the spread of one setting's seeds.
   */
  static String seedSummary(List<Run> runs) {
    Map<String, List<Run>> bySetting = new LinkedHashMap<>();
    runs.forEach(r -> bySetting.computeIfAbsent(r.setting(), k -> new ArrayList<>()).add(r));
    int width = Math.max(10, bySetting.keySet().stream().mapToInt(String::length).max().orElse(0));
    StringBuilder sb = new StringBuilder();
    String head = "%-" + width + "s %5s %14s %8s %8s %8s %10s%n";
    sb.append(
        String.format(head, "norm", "seeds", "mean acc (%)", "std", "min", "max", "mean loss"));
    bySetting.forEach(
        (setting, rs) -> {
          double[] acc = rs.stream().mapToDouble(r -> r.result().last().testAccuracy()).toArray();
          double meanLoss =
              rs.stream().mapToDouble(r -> r.result().last().testLoss()).average().orElseThrow();
          double mean = Arrays.stream(acc).average().orElseThrow();
          double ss = Arrays.stream(acc).map(a -> (a - mean) * (a - mean)).sum();
          sb.append(
              String.format(
                  "%-" + width + "s %5d %14.2f %8.2f %8.2f %8.2f %10.4f%n",
                  setting,
                  acc.length,
                  mean,
                  acc.length > 1 ? Math.sqrt(ss / (acc.length - 1)) : Double.NaN,
                  Arrays.stream(acc).min().orElseThrow(),
                  Arrays.stream(acc).max().orElseThrow(),
                  meanLoss));
        });
    return sb.toString();
  }

  /** The swept option names, in the order the points give them. */
  static List<String> keys(List<Run> runs) {
    return runs.isEmpty() ? List.of() : List.copyOf(runs.get(0).point().values().keySet());
  }
}
