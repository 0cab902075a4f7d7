package dev.normlab.train;

import java.nio.file.Path;

/**
 * Receives a run's progress: the CLI prints it, the tracker records it. All methods are called on
 * the training thread, in order.
 */
public interface TrainingListener {
  default void onStart(TrainConfig config, long totalSteps) {}

  /**
   * With {@code --resume}, right after {@link #onStart}: the checkpoint the run continues from,
   * with {@code epochsDone} finished epochs and {@code step} steps behind it; {@code checkpoint} is
   * null when there was none and the run starts from scratch.
   */
  default void onResume(Path checkpoint, int epochsDone, long step) {}

  /** After each optimizer step, before the step checkpoint of that step (if any) is written. */
  default void onStep(long step, int epoch, double loss, double lr, double imagesPerSecond) {}

  /**
   * With {@link TrainConfig#watchEvery()} on, right after {@link #onStep} of a watched step: the
   * {@link Watch} statistics of that step (keys {@code watch/...}, in a fixed order).
   */
  default void onWatch(long step, java.util.Map<String, Double> stats) {}

  /**
   * Other metrics of a step, after its {@link #onStep}: {@link LrFinder}'s smoothed loss and, at
   * its last step, its result ({@code lr_find/...}).
   */
  default void onMetrics(long step, java.util.Map<String, Double> metrics) {}

  /** After each epoch's evaluation, before that epoch's checkpoint is written. */
  default void onEpoch(EpochResult result) {}

  /**
   * Whether to train on after {@code result}'s epoch (a pruner's say: a sweep's early stopping).
   * Asked after each epoch's checkpoint, and on {@code --resume} for each epoch the checkpoint
   * holds, so that a run stopped early stays stopped. The run then ends as a finished one with the
   * epochs it has (its predictions from the final model).
   */
  default boolean trainOn(EpochResult result) {
    return true;
  }

  /** When {@link #trainOn} said stop after {@code last}'s epoch (also again on a resume). */
  default void onStoppedEarly(EpochResult last) {}

  /** The test-set predictions of the final model. */
  default void onPredictions(Predictions predictions) {}

  /** When a checkpoint has been written. */
  default void onCheckpoint(Path file, int epoch, boolean best) {}

  default void onFinish(TrainResult result) {}

  default void onFailure(Throwable error) {}

  /** Fans events out to several listeners. */
  static TrainingListener all(TrainingListener... ls) {
    return new TrainingListener() {
      @Override
      public void onStart(TrainConfig c, long t) {
        for (var l : ls) l.onStart(c, t);
      }

      @Override
      public void onResume(Path f, int e, long s) {
        for (var l : ls) l.onResume(f, e, s);
      }

      @Override
      public void onStep(long s, int e, double loss, double lr, double ips) {
        for (var l : ls) l.onStep(s, e, loss, lr, ips);
      }

      @Override
      public void onWatch(long s, java.util.Map<String, Double> stats) {
        for (var l : ls) l.onWatch(s, stats);
      }

      @Override
      public void onMetrics(long s, java.util.Map<String, Double> metrics) {
        for (var l : ls) l.onMetrics(s, metrics);
      }

      @Override
      public void onEpoch(EpochResult r) {
        for (var l : ls) l.onEpoch(r);
      }

      @Override
      public boolean trainOn(EpochResult r) {
        boolean on = true;
        for (var l : ls) on &= l.trainOn(r); // every listener sees every epoch
        return on;
      }

      @Override
      public void onStoppedEarly(EpochResult r) {
        for (var l : ls) l.onStoppedEarly(r);
      }

      @Override
      public void onPredictions(Predictions p) {
        for (var l : ls) l.onPredictions(p);
      }

      @Override
      public void onCheckpoint(Path f, int e, boolean b) {
        for (var l : ls) l.onCheckpoint(f, e, b);
      }

      @Override
      public void onFinish(TrainResult r) {
        for (var l : ls) l.onFinish(r);
      }

      @Override
      public void onFailure(Throwable t) {
        for (var l : ls) l.onFailure(t);
      }
    };
  }
}
