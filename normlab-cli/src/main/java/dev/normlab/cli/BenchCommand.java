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
      description = "untimed steps first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      description = "images per step, random data (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--threads", description = "kernel threads (default: all cores)")
  Integer threads;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    for (String n : norms) {
      try {
        ReferenceCnn.Norm.parse(n); // every name checked before any is measured: a usage error
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
    }
    for (String n : norms) {
      TrainBench.Result r =
          TrainBench.run(
              n,
              batchSize,
              warmup,
              steps,
              threads == null ? dev.normlab.kernels.Parallel.threads() : threads);
      System.out.printf(
          "java norm=%s steps=%d images_per_s=%.1f ms_per_step=%.2f%n",
          n, steps, r.imagesPerSecond(), r.msPerStep());
    }
    return 0;
  }
}
