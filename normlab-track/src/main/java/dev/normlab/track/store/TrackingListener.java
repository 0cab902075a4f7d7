package dev.normlab.track.store;

import dev.normlab.track.system.RunEnvironment;
import dev.normlab.track.system.SystemMetrics;
import dev.normlab.train.EpochResult;
import dev.normlab.train.Predictions;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.TrainingListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records a {@link dev.normlab.train.Trainer} run in a {@link RunStore}: {@code train/loss}, {@code
 * train/lr} and {@code train/images_per_sec} per step; {@code test/loss}, {@code test/accuracy},
 * {@code test/accuracy_class_<k>}, {@code epoch}, {@code train/epoch_loss}, {@code train/accuracy}
 * and {@code train/epoch_seconds} per epoch (at the epoch's last step); with {@link
 * TrainConfig#watchEvery()} the {@code watch/...} statistics of the watched steps; the process's
 * {@link SystemMetrics} ({@code system/...}) at the first step, every 5 seconds and at each epoch's
 * end; the final predictions; the config, with where it ran under {@code env.*} ({@link
 * RunEnvironment}); and the end status ({@code finished}, or {@code failed} with the error
 * message).
 *
 * <p>With {@link TrainConfig#resume()} the latest run of the same name and group is reopened and
 * its history after the checkpoint's step (work the dead process did not checkpoint) is dropped, so
 * the resumed training continues the same curve.
 *
 * <p>A store error is thrown from the event (a {@link StoreException}), which stops the training;
 * the run is then marked failed if the store still accepts writes.
 */
public final class TrackingListener implements TrainingListener, AutoCloseable {
  private final RunStore store;
  private final String name;
  private final String group;
  private final List<String> tags;
  private final TrainConfig plannedConfig;
  private RunWriter writer;
  private boolean rewindPending;
  private int checkpointEvery;
  private long systemEveryNanos = Duration.ofSeconds(5).toNanos();
  private SystemMetrics system;
  private long systemWall;
  private long systemStep = -1;
  private final Map<String, Object> extraConfig = new LinkedHashMap<>();

  /**
   * @param config the config the run will have (recorded even if training fails before it starts);
   *     may be null, the one passed to {@link #onStart} is used then
   */
  public TrackingListener(
      RunStore store, String name, String group, List<String> tags, TrainConfig config) {
    this.store = store;
    this.name = name;
    this.group = group;
    this.tags = List.copyOf(tags);
    this.plannedConfig = config;
  }

  public TrackingListener(RunStore store, String name, String group) {
    this(store, name, group, List.of(), null);
  }

  /**
   * Samples the {@code system/...} metrics every {@code every} (5 seconds unless set) besides the
   * first step and each epoch's end; {@link Duration#ZERO} samples at every step. Call before
   * {@link #onStart}.
   */
  public TrackingListener systemMetricsEvery(Duration every) {
    if (every.isNegative()) {
      throw new IllegalArgumentException("system metrics interval must be >= 0, got " + every);
    }
    systemEveryNanos = every.toNanos();
    return this;
  }

  /**
   * Config entries beside (or instead of) the {@link TrainConfig}'s, e.g. the lr range test's
   * range; a null value removes a key that does not apply. Call before {@link #onStart}.
   */
  public TrackingListener config(Map<String, Object> extra) {
    extraConfig.putAll(extra);
    return this;
  }

  /** The run being written, or null before {@link #onStart}. */
  public String runId() {
    return writer == null ? null : writer.runId();
  }

  /** The config as stored: all of {@link TrainConfig}'s fields. */
  public static Map<String, Object> configMap(TrainConfig c) {
    Map<String, Object> m = new LinkedHashMap<>(c.toMap());
    m.put("data_dir", c.dataDir() == null ? null : c.dataDir().toString());
    m.put("checkpoint_dir", c.checkpointDir() == null ? null : c.checkpointDir().toString());
    m.put("resume", c.resume());
    return m;
  }

  private void open(TrainConfig config) {
    if (writer != null) {
      return;
    }
    if (config != null && config.resume()) {
      var previous = store.query().latestNamed(name, group);
      if (previous.isPresent()) {
        var p = previous.get();
        if ("running".equals(p.status())) {
          throw new IllegalStateException(
              "run "
                  + p.id()
                  + " ("
                  + name
                  + ") is still being written by process "
                  + p.pid()
                  + " on "
                  + p.host());
        }
        writer = store.resume(p.id());
        rewindPending = true;
        return;
      }
    }
    List<String> allTags = new ArrayList<>(tags);
    if (config != null) {
      allTags.add(config.norm());
      allTags.add(config.dataset());
    }
    Map<String, Object> stored = config == null ? new LinkedHashMap<>() : configMap(config);
    for (var e : extraConfig.entrySet()) {
      if (e.getValue() == null) {
        stored.remove(e.getKey());
      } else {
        stored.put(e.getKey(), e.getValue());
      }
    }
    stored.put("env", RunEnvironment.describe());
    writer = store.newRun(name).group(group).tags(allTags).config(stored).start();
    writer.summaryRule("test/accuracy", SummaryRule.BEST_MAX);
    writer.summaryRule("test/loss", SummaryRule.BEST_MIN);
    writer.summaryRule("train/loss", SummaryRule.LAST);
    writer.summaryRule("system/rss_mib", SummaryRule.MAX);
    writer.summaryRule("system/peak_rss_mib", SummaryRule.MAX);
  }

  @Override
  public void onStart(TrainConfig config, long totalSteps) {
    open(config);
    checkpointEvery = config.checkpointEvery();
    system = SystemMetrics.startingNow();
  }

  /** Logs the system metrics at {@code step} when it is the first, or the interval has passed. */
  private void sampleSystem(long step, boolean due) {
    long now = System.nanoTime();
    if (system == null
        || step == systemStep
        || !(due || systemStep < 0 || now - systemWall >= systemEveryNanos)) {
      return;
    }
    for (var e : system.sample().entrySet()) {
      writer.log(e.getKey(), step, e.getValue());
    }
    systemWall = now;
    systemStep = step;
  }

  @Override
  public void onStep(long step, int epoch, double loss, double lr, double imagesPerSecond) {
    if (rewindPending) {
      writer.rewindTo(step - 1);
      rewindPending = false;
    }
    writer.log("train/loss", step, loss);
    writer.log("train/lr", step, lr);
    writer.log("train/images_per_sec", step, imagesPerSecond);
    sampleSystem(step, false);
    if (checkpointEvery > 0 && step % checkpointEvery == 0) {
      // The trainer writes its step checkpoint right after this call: the history up to it must
      // be on disk first, or a kill before the next timed flush would leave a gap on resume.
      writer.flush();
    }
  }

  @Override
  public void onWatch(long step, Map<String, Double> stats) {
    onMetrics(step, stats);
  }

  @Override
  public void onMetrics(long step, Map<String, Double> metrics) {
    for (var e : metrics.entrySet()) {
      writer.log(e.getKey(), step, e.getValue());
    }
  }

  @Override
  public void onEpoch(EpochResult r) {
    long step = r.step();
    if (rewindPending) {
      writer.rewindTo(step - 1);
      rewindPending = false;
    }
    writer.log("test/loss", step, r.testLoss());
    writer.log("test/accuracy", step, r.testAccuracy());
    double[] perClass = r.perClassAccuracy();
    if (perClass != null) {
      for (int k = 0; k < perClass.length; k++) {
        writer.log("test/accuracy_class_" + k, step, perClass[k]);
      }
    }
    writer.log("epoch", step, r.epoch());
    writer.log("train/epoch_loss", step, r.trainLoss());
    if (!Double.isNaN(r.trainAccuracy())) {
      writer.log("train/accuracy", step, r.trainAccuracy());
    }
    writer.log("train/epoch_seconds", step, r.epochSeconds());
    sampleSystem(step, true); // after the evaluation: its memory and time count
    writer.flush();
  }

  @Override
  public void onStoppedEarly(EpochResult last) {
    writer.tag("stopped-early"); // the runs table and the tag filter show it
  }

  @Override
  public void onPredictions(Predictions predictions) {
    writer.writePredictions(predictions);
  }

  @Override
  public void onFinish(TrainResult result) {
    writer.finish();
  }

  @Override
  public void onFailure(Throwable error) {
    String message = error.getMessage();
    if (message == null || message.isBlank()) {
      message = error.getClass().getSimpleName();
    }
    try {
      if (writer == null) {
        open(plannedConfig); // failed before the start (e.g. no dataset): still worth a record
      }
      writer.fail(message);
    } catch (RuntimeException storeBroken) {
      // the training's own error is the one to report; the store's was reported when it happened
    }
  }

  /** Closes the run if it is still open (marked killed: neither finished nor failed). */
  @Override
  public void close() {
    if (writer != null && writer.isOpen()) {
      writer.close();
    }
  }
}
