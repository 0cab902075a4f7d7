package dev.normlab.cli;

import dev.normlab.train.LrFinder;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainingListener;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code normlab lr-find}: the learning-rate range test, once per norm. */
@Command(
    name = "lr-find",
    mixinStandardHelpOptions = true,
    description = {
      "The learning-rate range test, once per norm: where the loss falls fastest, is lowest and"
          + " blows up.",
      "A fresh reference CNN is trained for --steps steps while the lr grows exponentially from"
          + " --start-lr to --end-lr; the smoothed training loss says where to train (a tenth of"
          + " the lr where it is lowest is the classic choice).",
      "Example: normlab lr-find --norms none,batch,group --steps 200"
    })
final class LrFindCommand implements Callable<Integer> {
  @Mixin TrainOptions opts = new TrainOptions();

  @Option(
      names = "--norms",
      defaultValue = "none,batch,instance,layer,group",
      split = ",",
      description = "norms to test (default: ${DEFAULT-VALUE})")
  List<String> norms;

  @Option(
      names = "--group",
      description = "run group in the store (default: lr-find-<dataset>-<time>)")
  String group;

  @Option(
      names = "--start-lr",
      defaultValue = "1e-6",
      description = "the first step's lr (default: ${DEFAULT-VALUE})")
  double startLr;

  @Option(
      names = "--end-lr",
      defaultValue = "10",
      description = "the last step's lr (default: ${DEFAULT-VALUE})")
  double endLr;

  @Option(
      names = "--steps",
      defaultValue = "200",
      description = "steps, one lr each (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(
      names = "--diverge",
      defaultValue = "4",
      paramLabel = "FACTOR",
      description =
          "stop a norm's test once its smoothed loss exceeds FACTOR times its lowest (default:"
              + " ${DEFAULT-VALUE})")
  double diverge;

  @Spec CommandSpec spec;

  /** Train's options that mean nothing to a range test: given, they are usage errors. */
  private static final List<String> NOT_FOR_A_RANGE_TEST =
      List.of(
          "--lr",
          "--epochs",
          "--scheduler",
          "--step-size",
          "--gamma",
          "--t-max",
          "--eta-min",
          "--limit-test",
          "--resume",
          "--checkpoint-every",
          "--detect-anomaly",
          "--watch",
          "--lr-find",
          "--lr-for-batch");

  /**
   * Keeps train's options that a range test refuses out of lr-find's help (they stay parsed, so
   * that giving one says why it does not apply instead of "Unknown option").
   */
  static void hideTrainOnlyOptions(CommandSpec spec) {
    for (String name : NOT_FOR_A_RANGE_TEST) {
      OptionSpec o = spec.findOption(name);
      spec.remove(o);
      spec.addOption(OptionSpec.builder(o).hidden(true).build());
    }
  }

  @Override
  public Integer call() throws Exception {
    for (String o : NOT_FOR_A_RANGE_TEST) {
      if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
        throw new ParameterException(
            spec.commandLine(),
            o
                + " does not apply to lr-find"
                + (o.equals("--lr") ? " (it sweeps the lr: --start-lr, --end-lr)" : ""));
      }
    }
    LrFinder.Options options;
    try {
      options = new LrFinder.Options(startLr, endLr, steps, diverge);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    if (norms.size() != new java.util.HashSet<>(norms).size()) {
      throw new ParameterException(spec.commandLine(), "--norms repeats a norm: " + norms);
    }
    for (String n : norms) {
      opts.config(n, "check"); // a typo fails before any training
    }
    String g = group != null ? group : RunSeries.defaultGroup("lr-find", opts.dataset);
    Map<String, Object> rangeConfig = new LinkedHashMap<>();
    rangeConfig.put(
        "lr_find",
        Map.of("start_lr", startLr, "end_lr", endLr, "steps", steps, "diverge_factor", diverge));
    for (String k : List.of("lr", "epochs", "limit_test", "checkpoint_dir", "resume")) {
      rangeConfig.put(k, null); // a training run's, not a range test's
    }
    List<String[]> rows = new ArrayList<>();
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      for (String norm : norms) {
        String runName = g + "-" + norm;
        TrainConfig config = opts.config(norm, runName);
        TrainingListener l =
            TrainingListener.all(
                new Progress(norm, options, System.out, System.err),
                tracking.listener(runName, g, config, rangeConfig));
        LrFinder.Result r = new LrFinder(config, options, l).run();
        rows.add(
            new String[] {
              norm,
              lr(r.minLossLr()),
              lr(r.suggestedLr()),
              lr(r.steepestLr()),
              Double.isNaN(r.divergedLr()) ? "not by " + lr(endLr) : lr(r.divergedLr()),
              String.format("%.4f", r.points().get(r.points().size() - 1).smoothedLoss())
            });
      }
      System.out.println();
      System.out.print(table(rows));
      RunSeries.printPeakMemory(System.out);
      tracking.printWhere(System.out);
      if (!opts.noTrack) {
        System.out.println(
            "curves:      ./normlab serve, then"
                + " http://127.0.0.1:8080/#runs?metrics=lr_find/smoothed_loss,train/loss&x=lr&log=1");
        System.out.println(
            "report:      ./normlab report --group "
                + g
                + tracking.storeOption()
                + " --out report.html");
      }
    }
    return 0;
  }

  /** An lr with three significant digits; a dash when there is none. */
  static String lr(double v) {
    return Double.isNaN(v) ? "-" : String.format("%.3g", v);
  }

  static String table(List<String[]> rows) {
    StringBuilder sb = new StringBuilder();
    String f = "%-10s %16s %16s %14s %16s %14s%n";
    sb.append(
        String.format(
            f,
            "norm",
            "lowest loss at",
            "suggested (/10)",
            "steepest at",
            "diverged at",
            "last loss"));
    for (String[] r : rows) {
      sb.append(String.format(f, (Object[]) r));
    }
    return sb.toString();
  }

  /** A line when a norm's test starts, progress while it runs, and what it found. */
  static final class Progress implements TrainingListener {
    private final String label;
    private final LrFinder.Options options;
    private final PrintStream out;
    private final PrintStream err;
    private long lastDraw;
    private double loss;
    private double lr;

    Progress(String label, LrFinder.Options options, PrintStream out, PrintStream err) {
      this.label = label;
      this.options = options;
      this.out = out;
      this.err = err;
    }

    @Override
    public void onStart(TrainConfig c, long totalSteps) {
      out.printf(
          "[%s] lr range test on %s: lr %s to %s over %d steps, batch %d, %s, seed %d, %d"
              + " threads%n",
          label,
          c.dataset(),
          lr(options.startLr()),
          lr(options.endLr()),
          options.steps(),
          c.batchSize(),
          c.optim().describe(c.epochs()).replaceFirst("lr [^,]*, ?", ""),
          c.seed(),
          c.threads());
    }

    @Override
    public void onStep(long step, int epoch, double loss, double lr, double ips) {
      this.loss = loss;
      this.lr = lr;
    }

    @Override
    public void onMetrics(long step, Map<String, Double> metrics) {
      Double smoothed = metrics.get("lr_find/smoothed_loss");
      long now = System.nanoTime();
      if (smoothed == null || (now - lastDraw < 5_000_000_000L && step > 1)) {
        return;
      }
      lastDraw = now;
      err.printf(
          "[%s] step %d/%d  lr %s  loss %.4f  smoothed %.4f%n",
          label, step, options.steps(), lr(lr), loss, smoothed);
    }

    @Override
    public void onFinish(dev.normlab.train.TrainResult r) {
      out.printf("[%s] done in %s%n", label, ConsoleListener.hms(r.trainSeconds()));
    }
  }
}
