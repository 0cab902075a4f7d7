package dev.normlab.cli;

import dev.normlab.data.MnistLike;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.train.Augmentation;
import dev.normlab.train.OptimizerConfig;
import dev.normlab.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
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
      names = "--optimizer",
      defaultValue = "sgd",
      description = "sgd, adam or adamw, as torch.optim's (default: ${DEFAULT-VALUE})")
  String optimizer;

  @Option(
      names = "--lr",
      description = "learning rate (default: 0.01 with sgd, 0.001 with adam and adamw)")
  Double lr;

  @Option(
      names = "--lr-for-batch",
      paramLabel = "B",
      description =
          "--lr is the lr for a batch of B images: the run trains at lr * batch-size / B, the"
              + " linear scaling rule (Goyal et al. 2017), so that a sweep over --batch-size keeps"
              + " the lr per image")
  Integer lrForBatch;

  @Option(names = "--momentum", description = "SGD momentum (default: 0.9)")
  Double momentum;

  @Option(names = "--dampening", description = "SGD dampening (default: 0)")
  Double dampening;

  @Option(
      names = "--nesterov",
      description = "SGD with Nesterov momentum (needs momentum > 0 and dampening 0)")
  boolean nesterov;

  @Option(
      names = "--weight-decay",
      description =
          "weight decay: L2 penalty with sgd and adam, decoupled with adamw (default: 0; 0.01"
              + " with adamw)")
  Double weightDecay;

  @Option(
      names = "--betas",
      paramLabel = "B1,B2",
      description = "Adam's and AdamW's moment decays (default: 0.9,0.999)")
  String betas;

  @Option(names = "--eps", description = "Adam's and AdamW's denominator term (default: 1e-8)")
  Double eps;

  @Option(
      names = "--scheduler",
      defaultValue = "none",
      description =
          "learning-rate schedule, stepped after every epoch: none, step (StepLR) or cosine"
              + " (CosineAnnealingLR) (default: ${DEFAULT-VALUE})")
  String scheduler;

  @Option(
      names = "--step-size",
      paramLabel = "EPOCHS",
      description = "StepLR: multiply the lr by --gamma every EPOCHS epochs (needed with step)")
  Integer stepSize;

  @Option(names = "--gamma", description = "StepLR's factor (default: 0.1)")
  Double gamma;

  @Option(
      names = "--t-max",
      paramLabel = "EPOCHS",
      description = "CosineAnnealingLR's half period (default: --epochs)")
  Integer tMax;

  @Option(names = "--eta-min", description = "CosineAnnealingLR's lowest lr (default: 0)")
  Double etaMin;

  @Option(
      names = "--random-crop",
      defaultValue = "0",
      paramLabel = "PIXELS",
      description =
          "augment the training images: pad by PIXELS of black and crop back at random, as"
              + " torchvision's RandomCrop(28, padding=PIXELS) (default: ${DEFAULT-VALUE}, none)")
  int randomCrop;

  @Option(
      names = "--hflip",
      defaultValue = "0",
      paramLabel = "P",
      description =
          "augment the training images: mirror left-right with probability P (for"
              + " Fashion-MNIST; a mirrored digit is often not one) (default: ${DEFAULT-VALUE})")
  double hflip;

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

  @Option(
      names = "--watch",
      arity = "0..1",
      defaultValue = "0",
      fallbackValue = "20",
      paramLabel = "N",
      description =
          "record each layer's gradient, weight and update norms, its activations' mean, std and"
              + " percentiles and the dead ReLUs at step 1 and every N steps (default N: 20; 0:"
              + " off) as watch/* metrics; changes nothing the run computes")
  int watchEvery;

  @Option(
      names = "--lr-find",
      description =
          "choose each run's lr by the lr range test (normlab lr-find's, on the same model, data"
              + " and seed) before it trains: a tenth of the lr where its smoothed loss is lowest")
  boolean lrFind;

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
      if (ReferenceCnn.Norm.parse(norm) == ReferenceCnn.Norm.GROUP) {
        ReferenceCnn.checkGroups(groups);
      }
      if (watchEvery < 0) {
        throw new IllegalArgumentException("--watch N must be >= 1 (0: off), got " + watchEvery);
      }
      if (lrFind && lr != null) {
        throw new IllegalArgumentException("--lr and --lr-find both set the lr; give one");
      }
      if (lrFind && lrForBatch != null) {
        throw new IllegalArgumentException(
            "--lr-for-batch scales --lr, and --lr-find chooses the lr at the run's own batch"
                + " size; give one");
      }
      if (lrForBatch != null && lrForBatch < 1) {
        throw new IllegalArgumentException("--lr-for-batch must be >= 1, got " + lrForBatch);
      }
      if (watchEvery > 0 && noTrack) {
        throw new IllegalArgumentException(
            "--watch records into the run store; it does nothing with --no-track");
      }
      if (dataDir != null && !Files.isDirectory(dataDir)) {
        throw new IllegalArgumentException(
            "--data-dir " + dataDir + " is not a directory (it should hold <dataset>/*-ubyte.gz)");
      }
      return build(norm, runName, t, optim());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  /**
   * The optimizer and schedule; an option of another optimizer or schedule than the chosen one is
   * an error rather than silently ignored.
   */
  private OptimizerConfig optim() {
    String opt = optimizer.toLowerCase(Locale.ROOT);
    String sched = scheduler.toLowerCase(Locale.ROOT);
    OptimizerConfig.checkNames(opt, sched); // before "--momentum does not apply to --optimizer x"
    boolean sgd = opt.equals("sgd");
    String forOpt = "--optimizer " + opt, forSched = "--scheduler " + sched;
    onlyWith(sgd, forOpt, "--momentum", momentum, "--dampening", dampening);
    onlyWith(sgd, forOpt, "--nesterov", nesterov ? true : null);
    onlyWith(!sgd, forOpt, "--betas", betas, "--eps", eps);
    onlyWith(sched.equals("step"), forSched, "--step-size", stepSize, "--gamma", gamma);
    onlyWith(sched.equals("cosine"), forSched, "--t-max", tMax, "--eta-min", etaMin);
    if (sched.equals("step") && stepSize == null) {
      throw new IllegalArgumentException("--scheduler step needs --step-size");
    }
    double[] b = betas == null ? new double[] {0.9, 0.999} : parseBetas(betas);
    return new OptimizerConfig(
        opt,
        baseLr(sgd) * lrScale(),
        or(momentum, 0.9),
        or(dampening, 0.0),
        nesterov,
        or(weightDecay, opt.equals("adamw") ? 0.01 : 0.0),
        b[0],
        b[1],
        or(eps, 1e-8),
        sched,
        stepSize == null ? 1 : stepSize,
        or(gamma, 0.1),
        tMax == null ? 0 : tMax,
        or(etaMin, 0.0));
  }

  /** The lr as given, for a batch of {@code --lr-for-batch} when that is given. */
  private double baseLr(boolean sgd) {
    return or(lr, sgd ? 0.01 : 0.001);
  }

  /** The linear scaling rule's factor: batch size over {@code --lr-for-batch}, else 1. */
  private double lrScale() {
    return lrForBatch == null ? 1 : batchSize / (double) lrForBatch;
  }

  /**
   * What the run's record adds to its config for {@code --lr-for-batch}: the lr as given and the
   * batch it was given for (its {@code lr} is the one it trains with); nothing without it.
   */
  Map<String, Object> lrScalingRecord() {
    if (lrForBatch == null) {
      return Map.of();
    }
    boolean sgd = optimizer.toLowerCase(Locale.ROOT).equals("sgd");
    return Map.of("lr_scaling", Map.of("base_lr", baseLr(sgd), "base_batch", lrForBatch));
  }

  /** Refuses options (name, value pairs; null = not given) that do not apply to {@code what}. */
  private static void onlyWith(boolean applies, String what, Object... nameValues) {
    for (int i = 0; i < nameValues.length && !applies; i += 2) {
      if (nameValues[i + 1] != null) {
        throw new IllegalArgumentException(nameValues[i] + " does not apply to " + what);
      }
    }
  }

  private static double[] parseBetas(String text) {
    String[] parts = text.split(",", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "--betas takes two values, B1,B2 (e.g. 0.9,0.999), got '" + text + "'");
    }
    try {
      return new double[] {
        Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim())
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--betas: '" + text + "' is not two numbers", e);
    }
  }

  private static double or(Double v, double otherwise) {
    return v != null ? v : otherwise;
  }

  private TrainConfig build(String norm, String runName, int t, OptimizerConfig optim) {
    return new TrainConfig(
        dataset,
        norm,
        groups,
        epochs,
        optim,
        new Augmentation(randomCrop, hflip),
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
        watchEvery,
        null);
  }
}
