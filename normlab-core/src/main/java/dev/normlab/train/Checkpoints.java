package dev.normlab.train;

import dev.normlab.data.DataLoader;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.Json;
import dev.normlab.nn.Module;
import dev.normlab.optim.Optimizer;
import dev.normlab.tensor.Rng;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's checkpoint directory: {@code last.safetensors} (rewritten atomically after every epoch)
 * and {@code best.safetensors} (the epoch with the best test accuracy). Each holds the model, the
 * optimizer state, the generator and data-loader position and the metric history, so that {@code
 * --resume} continues exactly where the run stopped.
 */
final class Checkpoints {
  private static final String HISTORY = "normlab.history";
  private static final String BEST = "normlab.best_accuracy";

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

  /** What a resumed run continues from. */
  record Resumed(int epoch, long step, double bestAccuracy, List<EpochResult> history) {}

  void save(
      Module model,
      Optimizer opt,
      Rng rng,
      DataLoader loader,
      TrainConfig config,
      int epoch,
      long step,
      double bestAccuracy,
      List<EpochResult> history,
      boolean isBest)
      throws IOException {
    Files.createDirectories(dir);
    Checkpoint.Info info =
        new Checkpoint.Info(
            epoch,
            step,
            rng.state(),
            loader.state().encode(),
            Json.write(config.toMap()),
            Map.of(HISTORY, encode(history), BEST, Double.toString(bestAccuracy)));
    Checkpoint.save(last(), model, opt, info);
    if (isBest) {
      Checkpoint.save(best(), model, opt, info);
    }
  }

  /** Restores from {@code last.safetensors}; null when there is none. */
  Resumed resume(Module model, Optimizer opt, Rng rng, DataLoader loader) throws IOException {
    if (!Files.exists(last())) {
      return null;
    }
    Checkpoint c = Checkpoint.load(last());
    c.restoreModel(model, true);
    c.restoreOptimizer(opt);
    Checkpoint.Info info = c.info();
    if (info.rngState() != null) {
      rng.setState(info.rngState());
    }
    if (info.loaderState() != null) {
      loader.restore(DataLoader.State.decode(info.loaderState()));
    }
    String best = c.metadata().getOrDefault(BEST, "-1");
    return new Resumed(
        (int) info.epoch(),
        info.step(),
        Double.parseDouble(best),
        decode(c.metadata().getOrDefault(HISTORY, "")));
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
              Double.parseDouble(f[6])));
    }
    return out;
  }
}
