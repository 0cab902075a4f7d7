package dev.normlab.cli;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.train.TrainBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code normlab bench}: training throughput of the reference CNN per norm. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure training throughput (images/s) of the reference CNN, one line per norm.",
      "scripts/bench-train.sh runs this and the PyTorch twin in the same invocation."
    })
final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--norms",
      defaultValue = "none,batch,instance,layer,group",
      split = ",",
      description = "norms to measure, comma-separated (default: ${DEFAULT-VALUE})")
  List<String> norms;

  @Option(
      names = "--steps",
      defaultValue = "60",
      description = "timed steps per norm (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(
      names = "--warmup",
      defaultValue = "15",
      description = "untimed steps first, at least (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--wait-for-jit",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "after the --warmup steps, go on until the JIT has compiled nothing for 0.5 s and has"
              + " none of normlab's methods queued, at most 60 s: a long run's speed, not its first"
              + " seconds' (default: on; --no-wait-for-jit: the --warmup steps alone)")
  boolean waitForJit;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      description = "images per step, random data (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--threads", description = "kernel threads (default: all cores)")
  Integer threads;

  @Option(
      names = "--profile",
      description =
          "instead of the throughput: where a step's time goes, each op's forward and backward by"
              + " module, the optimizer, and what is left (as torch.profiler's key averages)")
  boolean profile;

  @Spec CommandSpec spec;

  /**
   * The profile per step: the most expensive (module, op) first, then the optimizer and the rest.
   */
  static String profileTable(TrainBench.Profile p) {
    double perStep = 1e6 * p.steps(); // nanoseconds of all steps -> milliseconds per step
    double step = p.stepNanos() / perStep;
    StringBuilder sb = new StringBuilder();
    String f = "%-30s %-22s %6s %10s %10s %10s %7s%n";
    sb.append(String.format(f, "module", "op", "calls", "fwd ms", "bwd ms", "total ms", "share"));
    double accounted = 0;
    for (var e : p.entries()) {
      double total = e.totalNanos() / perStep;
      accounted += total;
      sb.append(
          String.format(
              f,
              e.module(),
              e.op(),
              e.calls() == 0 ? "-" : String.valueOf(e.calls() / p.steps()),
              ms(e.forwardNanos() / perStep),
              ms(e.backwardNanos() / perStep),
              ms(total),
              String.format("%.1f%%", 100 * total / step)));
    }
    double opt = p.optimizerNanos() / perStep;
    sb.append(
        String.format(
            f,
            "(optimizer)",
            "zero_grad + step",
            "-",
            "-",
            "-",
            ms(opt),
            String.format("%.1f%%", 100 * opt / step)));
    double rest = step - accounted - opt;
    sb.append(
        String.format(
            f,
            "(the rest)",
            "between ops, scopes",
            "-",
            "-",
            "-",
            ms(rest),
            String.format("%.1f%%", 100 * rest / step)));
    sb.append(String.format("step: %s ms (wall time, everything above)", ms(step)));
    return sb.toString();
  }

  private static String ms(double v) {
    return String.format("%.3f", v);
  }

  @Override
  public Integer call() {
    for (String n : norms) {
      try {
        ReferenceCnn.Norm.parse(n); // every name checked before any is measured: a usage error
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
    }
    if (steps < 1 || warmup < 0 || batchSize < 1) {
      throw new ParameterException(
          spec.commandLine(), "--steps and --batch-size must be >= 1, --warmup >= 0");
    }
    int t = threads == null ? dev.normlab.kernels.Parallel.threads() : threads;
    if (profile) {
      for (String n : norms) {
        TrainBench.Profile p = TrainBench.profile(n, batchSize, warmup, waitForJit, steps, t);
        System.out.printf(
            "[%s] batch %d, %d threads, %d steps after %d untimed%n%s%n",
            n, batchSize, t, steps, p.warmupSteps(), profileTable(p));
      }
      return 0;
    }
    for (String n : norms) {
      TrainBench.Result r = TrainBench.run(n, batchSize, warmup, waitForJit, steps, t);
      System.out.printf(
          "java norm=%s steps=%d images_per_s=%.1f ms_per_step=%.2f warmup_steps=%d jit_settled=%b%n",
          n, steps, r.imagesPerSecond(), r.msPerStep(), r.warmupSteps(), r.settled());
    }
    return 0;
  }
}
