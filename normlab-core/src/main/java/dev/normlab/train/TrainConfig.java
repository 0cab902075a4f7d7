package dev.normlab.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that determines a training run of the reference CNN. Same config (including seed and
 * threads) gives the same metrics bit for bit.
 *
 * @param dataset {@code mnist}, {@code fashion-mnist} or {@code kmnist}
 * @param norm {@code none}, {@code batch}, {@code instance}, {@code layer} or {@code group}
 * @param groups GroupNorm's group count
 * @param optim the optimizer and learning-rate schedule
 * @param augment random crop and flip of the training images
 * @param limitTrain use only the first N training images (0 = all)
 * @param limitTest evaluate on the first N test images (0 = all)
 * @param checkpointDir where this run's checkpoints go
 * @param resume continue from the newest checkpoint in {@code checkpointDir}
 * @param checkpointEvery also checkpoint every N optimizer steps (0 = only at epoch ends)
 * @param detectAnomaly check every op's output and every gradient for NaN/Inf (slower)
 * @param watchEvery record {@link Watch} statistics at step 1 and every N steps (0 = off); they
 *     change nothing the run computes
 * @param runId the run store's id of this run, saved in checkpoints (may be null)
 */
public record TrainConfig(
    String dataset,
    String norm,
    int groups,
    int epochs,
    OptimizerConfig optim,
    Augmentation augment,
    int batchSize,
    long seed,
    int threads,
    Path dataDir,
    int limitTrain,
    int limitTest,
    Path checkpointDir,
    boolean resume,
    int checkpointEvery,
    boolean detectAnomaly,
    int watchEvery,
    String runId) {

  /** A config with SGD and no schedule, without step checkpoints, anomaly detection or run id. */
  public TrainConfig(
      String dataset,
      String norm,
      int groups,
      int epochs,
      double lr,
      double momentum,
      double weightDecay,
      int batchSize,
      long seed,
      int threads,
      Path dataDir,
      int limitTrain,
      int limitTest,
      Path checkpointDir,
      boolean resume) {
    this(
        dataset,
        norm,
        groups,
        epochs,
        OptimizerConfig.sgd(lr, momentum, weightDecay),
        Augmentation.NONE,
        batchSize,
        seed,
        threads,
        dataDir,
        limitTrain,
        limitTest,
        checkpointDir,
        resume,
        0,
        false,
        0,
        null);
  }

  public TrainConfig {
    require(epochs >= 1, "epochs must be >= 1, got " + epochs);
    require(optim != null, "optim must not be null");
    require(augment != null, "augment must not be null (Augmentation.NONE for none)");
    require(batchSize >= 1, "batch size must be >= 1, got " + batchSize);
    require(threads >= 1, "threads must be >= 1, got " + threads);
    require(groups >= 1, "groups must be >= 1, got " + groups);
    require(limitTrain >= 0 && limitTest >= 0, "limits must be >= 0");
    require(checkpointEvery >= 0, "checkpoint-every must be >= 0, got " + checkpointEvery);
    require(watchEvery >= 0, "watch interval must be >= 0, got " + watchEvery);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** The reference experiment's settings for one norm: SGD lr 0.01, momentum 0.9, batch 64. */
  public static TrainConfig defaults(String norm) {
    return new TrainConfig(
        "mnist",
        norm,
        8,
        10,
        0.01,
        0.9,
        0.0,
        64,
        0,
        Runtime.getRuntime().availableProcessors(),
        null,
        0,
        0,
        Path.of("normlab-runs", "checkpoints", norm),
        false);
  }

  public TrainConfig withNorm(String n) {
    return with(e -> e.norm = n);
  }

  public TrainConfig withCheckpointDir(Path dir) {
    return with(e -> e.checkpointDir = dir);
  }

  /** The same run with step checkpoints every {@code n} steps (0 = off). */
  public TrainConfig withCheckpointEvery(int n) {
    return with(e -> e.checkpointEvery = n);
  }

  /** The same run with anomaly detection on or off. */
  public TrainConfig withDetectAnomaly(boolean on) {
    return with(e -> e.detectAnomaly = on);
  }

  /** The same run with {@link Watch} statistics every {@code n} steps (0 = off). */
  public TrainConfig withWatchEvery(int n) {
    return with(e -> e.watchEvery = n);
  }

  /** The same run, resuming (or not) from its newest checkpoint. */
  public TrainConfig withResume(boolean on) {
    return with(e -> e.resume = on);
  }

  /** The same run with its run-store id (saved in checkpoints as {@code normlab.run_id}). */
  public TrainConfig withRunId(String id) {
    return with(e -> e.runId = id);
  }

  /** The same run for {@code n} epochs. */
  public TrainConfig withEpochs(int n) {
    return with(e -> e.epochs = n);
  }

  /** The same run with {@code n} kernel threads. */
  public TrainConfig withThreads(int n) {
    return with(e -> e.threads = n);
  }

  /**
   * The same run on the data in {@code dataDir} (null: the default search), its first {@code
   * limitTrain} training and {@code limitTest} test images (0: all).
   */
  public TrainConfig withData(Path dataDir, int limitTrain, int limitTest) {
    return with(
        e -> {
          e.dataDir = dataDir;
          e.limitTrain = limitTrain;
          e.limitTest = limitTest;
        });
  }

  /** The same run with another learning rate. */
  public TrainConfig withLr(double v) {
    return with(e -> e.optim = e.optim.withLr(v));
  }

  /** The same run with another optimizer or schedule. */
  public TrainConfig withOptim(OptimizerConfig o) {
    return with(e -> e.optim = o);
  }

  /** The same run with another augmentation of its training images. */
  public TrainConfig withAugment(Augmentation a) {
    return with(e -> e.augment = a);
  }

  /** The config as flat keys, for the run store and checkpoint metadata. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("dataset", dataset);
    m.put("norm", norm);
    m.put("groups", groups);
    m.put("epochs", epochs);
    optim.putInto(m, epochs);
    augment.putInto(m);
    m.put("batch_size", batchSize);
    m.put("seed", seed);
    m.put("threads", threads);
    m.put("limit_train", limitTrain);
    m.put("limit_test", limitTest);
    return m;
  }

  /** A mutable copy of the fields: each with* method changes one and builds a new config. */
  private static final class Edit {
    String dataset;
    String norm;
    int groups;
    int epochs;
    OptimizerConfig optim;
    Augmentation augment;
    int batchSize;
    long seed;
    int threads;
    Path dataDir;
    int limitTrain;
    int limitTest;
    Path checkpointDir;
    boolean resume;
    int checkpointEvery;
    boolean detectAnomaly;
    int watchEvery;
    String runId;

    Edit(TrainConfig c) {
      dataset = c.dataset;
      norm = c.norm;
      groups = c.groups;
      epochs = c.epochs;
      optim = c.optim;
      augment = c.augment;
      batchSize = c.batchSize;
      seed = c.seed;
      threads = c.threads;
      dataDir = c.dataDir;
      limitTrain = c.limitTrain;
      limitTest = c.limitTest;
      checkpointDir = c.checkpointDir;
      resume = c.resume;
      checkpointEvery = c.checkpointEvery;
      detectAnomaly = c.detectAnomaly;
      watchEvery = c.watchEvery;
      runId = c.runId;
    }

    TrainConfig build() {
      return new TrainConfig(
          dataset,
          norm,
          groups,
          epochs,
          optim,
          augment,
          batchSize,
          seed,
          threads,
          dataDir,
          limitTrain,
          limitTest,
          checkpointDir,
          resume,
          checkpointEvery,
          detectAnomaly,
          watchEvery,
          runId);
    }
  }

  private TrainConfig with(java.util.function.Consumer<Edit> change) {
    Edit e = new Edit(this);
    change.accept(e);
    return e.build();
  }
}
