package dev.normlab.cli;

import dev.normlab.train.EpochResult;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;

/** Prints a progress bar with ETA to stderr and one line per epoch to stdout. */
final class ConsoleListener implements dev.normlab.train.TrainingListener {
  private final PrintStream out;
  private final PrintStream err;
  private final String label;
  private final boolean tty = System.console() != null;
  private long total;
  private int epochs;
  private long start;
  private long lastDraw;

  /** Whether the lr changes by epoch (then each epoch line shows the one it trained with). */
  private boolean scheduled;

  private double epochLr;

  ConsoleListener(String label, PrintStream out, PrintStream err) {
    this.label = label;
    this.out = out;
    this.err = err;
  }

  @Override
  public void onStart(TrainConfig config, long totalSteps) {
    total = totalSteps;
    epochs = config.epochs();
    scheduled = !config.optim().scheduler().equals("none");
    start = System.nanoTime();
    out.printf(
        "[%s] training %s on %s: %d epochs, batch %d, %s, seed %d, %d threads%n",
        label,
        config.norm(),
        config.dataset(),
        config.epochs(),
        config.batchSize(),
        config.optim().describe(config.epochs()),
        config.seed(),
        config.threads());
  }

  @Override
  public void onStep(long step, int epoch, double loss, double lr, double ips) {
    epochLr = lr;
    long now = System.nanoTime();
    if (now - lastDraw < (tty ? 200_000_000L : 10_000_000_000L) && step != total) {
      return;
    }
    lastDraw = now;
    double elapsed = (now - start) / 1e9;
    double eta = step > 0 ? elapsed / step * (total - step) : 0;
    int width = 30;
    int filled = total > 0 ? (int) (width * step / total) : 0;
    String bar = "#".repeat(filled) + "-".repeat(width - filled);
    String line =
        String.format(
            "[%s] epoch %d [%s] %d/%d loss %.4f  %.0f img/s  ETA %s",
            label, epoch, bar, step, total, loss, ips, hms(eta));
    if (tty) {
      err.print("\r" + line + "   ");
    } else {
      err.println(line);
    }
    err.flush();
  }

  @Override
  public void onEpoch(EpochResult r) {
    if (tty) {
      err.print("\r");
    }
    out.printf(
        "[%s] epoch %d: train loss %.4f  train acc %s  test loss %.4f  test acc %.2f%%  %.0f img/s"
            + "  (%.1f s)%s%n",
        label,
        r.epoch(),
        r.trainLoss(),
        Double.isNaN(r.trainAccuracy()) ? "-" : String.format("%.2f%%", r.trainAccuracy()),
        r.testLoss(),
        r.testAccuracy(),
        r.imagesPerSecond(),
        r.epochSeconds(),
        scheduled ? "  lr " + fourDigits(epochLr) : "");
  }

  @Override
  public void onResume(Path checkpoint, int epochsDone, long step) {
    if (checkpoint == null) {
      out.printf("[%s] --resume: no checkpoint to resume from; starting from scratch%n", label);
    } else {
      out.printf(
          "[%s] resuming from %s (%d of %d epochs done, step %d)%n",
          label, checkpoint, epochsDone, epochs, step);
    }
  }

  @Override
  public void onCheckpoint(Path file, int epoch, boolean best) {
    // reported once at the end, with the directory
  }

  @Override
  public void onFinish(TrainResult r) {
    out.printf(
        "[%s] done in %s; checkpoints in %s%n", label, hms(r.trainSeconds()), r.checkpointDir());
  }

  /** 0.0007500 as 0.00075: four significant digits, no trailing zeros. */
  static String fourDigits(double v) {
    return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
  }

  static String hms(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format("%d:%02d", s / 60, s % 60);
  }
}
