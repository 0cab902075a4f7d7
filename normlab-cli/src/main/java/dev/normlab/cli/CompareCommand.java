package dev.normlab.cli;

import dev.normlab.train.TrainBench;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.Trainer;
import dev.normlab.train.TrainingListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code normlab compare}: the reference experiment, one run per normalization type. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = {
      "Train the reference CNN once per normalization type and compare test accuracy and loss.",
      "Default: the full replication (10 epochs on all 60,000 images). --quick: 1 epoch on 6,400."
    })
final class CompareCommand implements Callable<Integer> {
  @Mixin TrainOptions opts = new TrainOptions();

  @Spec CommandSpec spec;

  @Option(
      names = "--norms",
      defaultValue = "none,batch,instance,layer,group",
      split = ",",
      description = "norms to compare (default: ${DEFAULT-VALUE})")
  List<String> norms;

  @Option(
      names = "--group",
      description = "run group in the store (default: compare-<dataset>-<time>)")
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

  @Override
  public Integer call() throws Exception {
    if (quick) {
      opts.epochs = 1;
      if (opts.limitTrain == 0) {
        opts.limitTrain = 6_400;
      }
    }
    for (String n : norms) {
      opts.config(n, "check"); // fail fast on a typo or a bad value, before any training
    }
    if (warmupSteps < 0) {
      throw new ParameterException(spec.commandLine(), "--warmup-steps must be >= 0");
    }
    List<Long> seedList = seedList();
    boolean perSeed = seedList.size() > 1;
    String g =
        group != null
            ? group
            : "compare-"
                + opts.dataset
                + "-"
                + java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-');
    warmUp();
    List<TrainResult> results = new ArrayList<>();
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      for (long seed : seedList) { // seed by seed: an interrupted sweep has whole comparisons
        opts.seed = seed;
        for (String norm : norms) {
          String label = perSeed ? norm + "-s" + seed : norm;
          String runName = g + "-" + label;
          TrainConfig config = opts.config(norm, runName);
          TrainingListener l =
              TrainingListener.all(
                  new ConsoleListener(label, System.out, System.err),
                  new MetricsCsv(MetricsCsv.fileFor(opts.out, g), label),
                  tracking.listener(runName, g, config));
          results.add(new Trainer(config, l).run());
        }
      }
      System.out.println();
      System.out.println(table(results, perSeed));
      if (perSeed) {
        System.out.println(seedSummary(results, norms));
      }
      tracking.printWhere(System.out);
      if (!opts.noTrack) {
        System.out.println("report:      ./normlab report --group " + g + " --out report.html");
      }
      System.out.println("checkpoints: " + opts.out.resolve("checkpoints").toAbsolutePath());
      System.out.println("metrics:     " + MetricsCsv.fileFor(opts.out, g).toAbsolutePath());
    }
    return 0;
  }

  /** The seeds to train with: --seeds, or --seed alone; both at once is a usage error. */
  private List<Long> seedList() {
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

  /**
   * Steps of each compared model on random batches (their own generator: the runs' numbers do not
   * change): the JIT compiles the convolution, GEMM, pooling and dropout code that every run
   * shares, and each norm's kernels, which would otherwise slow a run's first steps several times
   * over (Layer Norm's first step ran at about 100 images/s).
   */
  private void warmUp() {
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

  static String table(List<TrainResult> results, boolean withSeed) {
    StringBuilder sb = new StringBuilder();
    String seedHead = withSeed ? String.format("%6s ", "seed") : "";
    sb.append(
        String.format(
            "%-10s %s%14s %10s %12s %12s%n",
            "norm", seedHead, "test acc (%)", "test loss", "train time", "images/s"));
    for (TrainResult r : results) {
      String seed = withSeed ? String.format("%6d ", r.config().seed()) : "";
      sb.append(
          String.format(
              "%-10s %s%14.2f %10.4f %12s %12.0f%n",
              r.config().norm(),
              seed,
              r.last().testAccuracy(),
              r.last().testLoss(),
              ConsoleListener.hms(r.trainSeconds()),
              r.last().imagesPerSecond()));
    }
    return sb.toString();
  }

  /**
   * Per norm over its seeds: mean test accuracy, its sample standard deviation, lowest and highest,
   * and the mean test loss, so that a difference between norms can be set against the spread of one
   * norm's seeds.
   */
  static String seedSummary(List<TrainResult> results, List<String> norms) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "%-10s %5s %14s %8s %8s %8s %10s%n",
            "norm", "seeds", "mean acc (%)", "std", "min", "max", "mean loss"));
    for (String norm : norms) {
      List<TrainResult> runs =
          results.stream().filter(r -> r.config().norm().equals(norm)).toList();
      double[] acc = runs.stream().mapToDouble(r -> r.last().testAccuracy()).toArray();
      double meanLoss =
          runs.stream().mapToDouble(r -> r.last().testLoss()).average().orElse(Double.NaN);
      double mean = Arrays.stream(acc).average().orElse(Double.NaN);
      double ss = Arrays.stream(acc).map(a -> (a - mean) * (a - mean)).sum();
      sb.append(
          String.format(
              "%-10s %5d %14.2f %8.2f %8.2f %8.2f %10.4f%n",
              norm,
              acc.length,
              mean,
              acc.length > 1 ? Math.sqrt(ss / (acc.length - 1)) : Double.NaN,
              Arrays.stream(acc).min().orElse(Double.NaN),
              Arrays.stream(acc).max().orElse(Double.NaN),
              meanLoss));
    }
    return sb.toString();
  }
}
