package dev.normlab.train;

import dev.normlab.data.DataLoader;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.CheckpointException;
import dev.normlab.io.Json;
import dev.normlab.nn.Module;
import dev.normlab.optim.Optimizer;
import dev.normlab.tensor.Rng;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run's checkpoint directory: {@code last.safetensors} (rewritten atomically after every epoch),
 * {@code best.safetensors} (the epoch with the best test accuracy) and, with {@code
 * --checkpoint-every N}, {@code step.safetensors} (rewritten every N optimizer steps). Each holds
 * the model, the optimizer state, the generator and data-loader position, the metric history and,
 * in a step checkpoint, the running sums of the unfinished epoch, so that {@code --resume}
 * continues from the newest of them exactly where the run stopped: the resumed run ends with the
 * same weights and metrics, bit for bit, as one that was never interrupted.
 */
final class Checkpoints {
  private static final String HISTORY = "normlab.history";
  // Apart from the history (whose records end with the per-class accuracies): older checkpoints
  // have none, and their epochs' training accuracy is then unknown.
  private static final String TRAIN_ACCURACY = "normlab.train_accuracy";
  private static final String BEST = "normlab.best_accuracy";
  private static final String PARTIAL = "normlab.epoch_progress";

  /** The config keys a resume may change: more epochs, another thread count. */
  private static final Set<String> MAY_CHANGE = Set.of("epochs", "threads");

  /**
   * Whether a config key must match to resume: all but {@link #MAY_CHANGE}. A key missing on either
   * side (an option of another optimizer, or a checkpoint older than the key) is not compared; the
   * optimizer's and schedule's names are always there.
   */
  static boolean mustMatch(String key) {
    return !MAY_CHANGE.contains(key);
  }

  private final Path dir;

  Checkpoints(Path dir) {
    this.dir = dir;
  }

  Path last() {
    return dir.resolve("last.safetensors");
  }

  Path best() {
    return dir.resolve("best.safetensors");
  }

  Path step() {
    return dir.resolve("step.safetensors");
  }

  /**
   * The running sums of an unfinished epoch, restored bit for bit on resume; {@code correct} is -1
   * when unknown (a checkpoint from before normlab counted it).
   */
  record Partial(double lossSum, int batches, long images, double seconds, long correct) {
    String encode() {
      return Long.toHexString(Double.doubleToRawLongBits(lossSum))
          + ","
          + batches
          + ","
          + images
          + ","
          + Long.toHexString(Double.doubleToRawLongBits(seconds))
          + ","
          + correct;
    }

    static Partial decode(String s) {
      String[] p = s.split(",");
      if (p.length != 4 && p.length != 5) {
        throw new IllegalArgumentException("bad epoch progress '" + s + "'");
      }
      return new Partial(
          Double.longBitsToDouble(Long.parseUnsignedLong(p[0], 16)),
          Integer.parseInt(p[1]),
          Long.parseLong(p[2]),
          Double.longBitsToDouble(Long.parseUnsignedLong(p[3], 16)),
          p.length == 5 ? Long.parseLong(p[4]) : -1);
    }
  }

  /**
   * What a resumed run continues from: {@code epoch} finished epochs, and {@code partial} sums of
   * the next one when resuming from a step checkpoint (else null).
   */
  record Resumed(
      Path file,
      int epoch,
      long step,
      double bestAccuracy,
      List<EpochResult> history,
      Partial partial) {}

  /** The newest resumable checkpoint in {@code dir} (most steps), or null when there is none. */
  static Path newest(Path dir) throws IOException {
    Checkpoints c = new Checkpoints(dir);
    Path best = null;
    long bestStep = -1;
    for (Path p : List.of(c.last(), c.step())) {
      if (Files.exists(p)) {
        long s = Checkpoint.load(p).info().step();
        if (s > bestStep) {
          bestStep = s;
          best = p;
        }
      }
    }
    return best;
  }

  /** What a checkpoint saves and a resume restores: the same objects for the whole run. */
  record Run(Module model, Optimizer opt, Rng rng, DataLoader loader, TrainConfig config) {}

  /** Writes the epoch-end checkpoint ({@code last}, and {@code best} if {@code isBest}). */
  void save(
      Run run, int epoch, long step, double bestAccuracy, List<EpochResult> history, boolean isBest)
      throws IOException {
    Checkpoint.Info info = info(run, epoch, step, bestAccuracy, history, null);
    // best before last: a crash between the two then resumes from an older checkpoint and
    // rewrites both, instead of leaving a best file that lags behind last's best accuracy.
    if (isBest) {
      write(best(), run, info);
    }
    write(last(), run, info);
  }

  /** Writes {@code step.safetensors} in the middle of epoch {@code epoch} (1-based). */
  void saveStep(
      Run run,
      int epoch,
      long step,
      double bestAccuracy,
      List<EpochResult> history,
      Partial partial)
      throws IOException {
    write(step(), run, info(run, epoch - 1, step, bestAccuracy, history, partial));
  }

  private static Checkpoint.Info info(
      Run run,
      int finishedEpochs,
      long step,
      double bestAccuracy,
      List<EpochResult> history,
      Partial partial) {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put(HISTORY, encode(history));
    extra.put(
        TRAIN_ACCURACY,
        history.stream()
            .map(r -> Double.toString(r.trainAccuracy()))
            .collect(java.util.stream.Collectors.joining(",")));
    extra.put(BEST, Double.toString(bestAccuracy));
    if (partial != null) {
      extra.put(PARTIAL, partial.encode());
    }
    if (run.config().runId() != null) {
      extra.put(Checkpoint.RUN_ID_KEY, run.config().runId());
    }
    return new Checkpoint.Info(
        finishedEpochs,
        step,
        run.rng().state(),
        run.loader().state().encode(),
        Json.write(run.config().toMap()),
        extra);
  }

  /** Writes atomically; a failure (e.g. a full disk) names the file and keeps the old one. */
  private static void write(Path file, Run run, Checkpoint.Info info) throws IOException {
    try {
      Checkpoint.save(file, run.model(), run.opt(), info);
    } catch (IOException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new CheckpointException(
          "could not write checkpoint "
              + file
              + ": "
              + why
              + (Files.exists(file) ? " (the previous " + file.getFileName() + " is intact)" : ""),
          e);
    }
  }

  /** Restores from the newest checkpoint; null when there is none. */
  Resumed resume(Run run) throws IOException {
    Path file = newest(dir);
    if (file == null) {
      return null;
    }
    Checkpoint c = Checkpoint.load(file);
    checkConfig(file, c, run.config());
    c.restoreModel(run.model(), true);
    c.restoreOptimizer(run.opt());
    Checkpoint.Info info = c.info();
    try {
      if (info.rngState() != null) {
        run.rng().setState(info.rngState());
      }
      if (info.loaderState() != null) {
        run.loader().restore(DataLoader.State.decode(info.loaderState()));
      }
      String best = c.metadata().getOrDefault(BEST, "-1");
      String partial = c.metadata().get(PARTIAL);
      return new Resumed(
          file,
          (int) info.epoch(),
          info.step(),
          Double.parseDouble(best),
          withTrainAccuracy(
              decode(c.metadata().getOrDefault(HISTORY, "")),
              c.metadata().getOrDefault(TRAIN_ACCURACY, "")),
          partial == null ? null : Partial.decode(partial));
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(file + ": bad resume state: " + e.getMessage(), e);
    }
  }

  /** Refuses to continue a run with settings that would change its results. */
  @SuppressWarnings("unchecked")
  private static void checkConfig(Path file, Checkpoint c, TrainConfig config)
      throws CheckpointException {
    String json = c.info().configJson();
    if (json == null) {
      return;
    }
    Map<String, Object> saved;
    try {
      saved = (Map<String, Object>) Json.parse(json);
    } catch (Json.ParseException | RuntimeException e) {
      throw new CheckpointException(file + ": bad normlab.config metadata: " + e.getMessage(), e);
    }
    Map<String, Object> now = config.toMap();
    List<String> diffs = new ArrayList<>();
    for (var e : now.entrySet()) {
      String k = e.getKey();
      Object a = saved.get(k);
      Object b = e.getValue();
      if (mustMatch(k) && a != null && b != null && !sameValue(a, b)) {
        String diff = k + " " + a + " (checkpoint) vs " + b + " (now)";
        if (k.equals("t_max") && config.optim().tMax() == 0) {
          // T_max defaults to the run's epochs: more epochs would reshape the whole schedule.
          diff += " (the cosine period follows --epochs; pass --t-max " + a + " to keep it)";
        }
        diffs.add(diff);
      }
    }
    if (!diffs.isEmpty()) {
      throw new CheckpointException(
          file
              + ": cannot resume with different settings: "
              + String.join(", ", diffs)
              + " (use the original options, or another --name / checkpoint directory)");
    }
  }

  private static boolean sameValue(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return x.doubleValue() == y.doubleValue();
    }
    return String.valueOf(a).equals(String.valueOf(b));
  }

  static String encode(List<EpochResult> history) {
    StringBuilder sb = new StringBuilder();
    for (EpochResult r : history) {
      if (!sb.isEmpty()) {
        sb.append(';');
      }
      sb.append(
          String.format(
              Locale.ROOT,
              "%d,%d,%s,%s,%s,%s,%s",
              r.epoch(),
              r.step(),
              r.trainLoss(),
              r.testLoss(),
              r.testAccuracy(),
              r.imagesPerSecond(),
              r.epochSeconds()));
      for (double a : r.perClassAccuracy()) {
        sb.append(',').append(a);
      }
    }
    return sb.toString();
  }

  /** The history with each epoch's training accuracy from {@code list} (NaN when missing). */
  static List<EpochResult> withTrainAccuracy(List<EpochResult> history, String list) {
    String[] f = list.isBlank() ? new String[0] : list.split(",");
    List<EpochResult> out = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      double acc = f.length == history.size() ? Double.parseDouble(f[i]) : Double.NaN;
      out.add(history.get(i).withTrainAccuracy(acc));
    }
    return out;
  }

  static List<EpochResult> decode(String s) {
    List<EpochResult> out = new ArrayList<>();
    if (s.isBlank()) {
      return out;
    }
    for (String rec : s.split(";")) {
      String[] f = rec.split(",");
      double[] per = new double[f.length - 7];
      for (int i = 0; i < per.length; i++) {
        per[i] = Double.parseDouble(f[7 + i]);
      }
      out.add(
          new EpochResult(
              Integer.parseInt(f[0]),
              Long.parseLong(f[1]),
              Double.parseDouble(f[2]),
              Double.parseDouble(f[3]),
              Double.parseDouble(f[4]),
              per,
              Double.parseDouble(f[5]),
              Double.parseDouble(f[6]),
              Double.NaN)); // kept apart: see TRAIN_ACCURACY
    }
    return out;
  }
}
