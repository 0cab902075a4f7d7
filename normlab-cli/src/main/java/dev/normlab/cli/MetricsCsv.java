package dev.normlab.cli;

import dev.normlab.train.EpochResult;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainingListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Appends a run's step losses and epoch metrics to a small CSV ({@code
 * <out>/results/<group>/metrics.csv}) so that scripts can plot what {@code compare} did without the
 * run store. Columns: {@code
 * norm,kind,epoch,step,train_loss,test_loss,test_acc,images_per_s,seconds}; {@code kind} is {@code
 * step} (train_loss is that step's loss) or {@code epoch}.
 */
final class MetricsCsv implements TrainingListener {
  static final String HEADER =
      "norm,kind,epoch,step,train_loss,test_loss,test_acc,images_per_s,seconds";

  private final Path file;
  private final String norm;
  private PrintWriter out;

  MetricsCsv(Path file, String norm) {
    this.file = file;
    this.norm = norm;
  }

  static Path fileFor(Path outDir, String group) {
    return outDir.resolve("results").resolve(group).resolve("metrics.csv");
  }

  @Override
  public void onStart(TrainConfig config, long totalSteps) {
    try {
      Files.createDirectories(file.getParent());
      boolean fresh = !Files.exists(file) || Files.size(file) == 0;
      // Appends: compare runs its norms one after the other into the same group file.
      out =
          new PrintWriter(
              Files.newBufferedWriter(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
      if (fresh) {
        out.println(HEADER);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void onStep(long step, int epoch, double loss, double lr, double imagesPerSecond) {
    out.printf(Locale.ROOT, "%s,step,%d,%d,%.6f,,,,%n", norm, epoch, step, loss);
  }

  @Override
  public void onEpoch(EpochResult r) {
    out.printf(
        Locale.ROOT,
        "%s,epoch,%d,%d,%.6f,%.6f,%.4f,%.1f,%.2f%n",
        norm,
        r.epoch(),
        r.step(),
        r.trainLoss(),
        r.testLoss(),
        r.testAccuracy(),
        r.imagesPerSecond(),
        r.epochSeconds());
    out.flush();
  }

  @Override
  public void onFinish(dev.normlab.train.TrainResult result) {
    close();
  }

  @Override
  public void onFailure(Throwable error) {
    close();
  }

  private void close() {
    if (out != null) {
      out.close();
      out = null;
    }
  }
}
