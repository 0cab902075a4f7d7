package dev.normlab.cli;

import dev.normlab.data.MnistLike;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options shared by {@code train} and {@code compare}. */
final class TrainOptions {
  @Option(
      names = "--dataset",
      defaultValue = "mnist",
      description = "mnist, fashion-mnist or kmnist (default: ${DEFAULT-VALUE})")
  String dataset;

  @Option(
      names = "--epochs",
      defaultValue = "10",
      description = "epochs (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(
      names = "--lr",
      defaultValue = "0.01",
      description = "SGD learning rate (default: ${DEFAULT-VALUE})")
  double lr;

  @Option(
      names = "--momentum",
      defaultValue = "0.9",
      description = "SGD momentum (default: ${DEFAULT-VALUE})")
  double momentum;

  @Option(
      names = "--weight-decay",
      defaultValue = "0",
      description = "SGD weight decay (default: ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      description = "batch size (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "random seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--groups",
      defaultValue = "8",
      description = "GroupNorm groups (default: ${DEFAULT-VALUE})")
  int groups;

  @Option(
      names = "--threads",
      description = "kernel threads (default: NORMLAB_THREADS or all cores)")
  Integer threads;

  @Option(
      names = "--data-dir",
      description =
          "directory holding <dataset>/*-ubyte(.gz) (default: NORMLAB_DATA, ../shared/datasets, ~/.cache/normlab)")
  Path dataDir;

  @Option(
      names = "--limit-train",
      defaultValue = "0",
      description = "train on the first N images only (0 = all)")
  int limitTrain;

  @Option(
      names = "--limit-test",
      defaultValue = "0",
      description = "evaluate on the first N test images only (0 = all)")
  int limitTest;

  @Option(
      names = "--out",
      defaultValue = "normlab-runs",
      description = "output directory for the store and checkpoints (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--store", description = "run store file (default: <out>/runs.db)")
  Path store;

  @Option(names = "--no-track", description = "do not record the run in the store")
  boolean noTrack;

  @Option(
      names = "--resume",
      description =
          "continue from the run's newest checkpoint (step or epoch); ends bit-identical to an"
              + " uninterrupted run with the same seed and threads")
  boolean resume;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "also checkpoint every N optimizer steps to <checkpoints>/step.safetensors (0 = only"
              + " at epoch ends; default: ${DEFAULT-VALUE})")
  int checkpointEvery;

  @Option(
      names = "--detect-anomaly",
      description =
          "check every op's output and every gradient for NaN/Inf and name the first layer that"
              + " produced one (slower)")
  boolean detectAnomaly;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  Path storePath() {
    return store != null ? store : out.resolve("runs.db");
  }

  /**
   * The run's config; bad option values (negative epochs, an unknown norm or dataset, a missing
   * --data-dir) are usage errors, reported like an unknown option.
   */
  TrainConfig config(String norm, String runName) {
    int t = threads != null ? threads : dev.normlab.kernels.Parallel.threads();
    try {
      MnistLike.parse(dataset);
      ReferenceCnn.Norm.parse(norm);
      if (dataDir != null && !Files.isDirectory(dataDir)) {
        throw new IllegalArgumentException(
            "--data-dir " + dataDir + " is not a directory (it should hold <dataset>/*-ubyte.gz)");
      }
      return build(norm, runName, t);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  private TrainConfig build(String norm, String runName, int t) {
    return new TrainConfig(
        dataset,
        norm,
        groups,
        epochs,
        lr,
        momentum,
        weightDecay,
        batchSize,
        seed,
        t,
        dataDir,
        limitTrain,
        limitTest,
        out.resolve("checkpoints").resolve(runName),
        resume,
        checkpointEvery,
        detectAnomaly,
        null);
  }
}
