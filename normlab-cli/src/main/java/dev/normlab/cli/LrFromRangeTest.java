package dev.normlab.cli;

import dev.normlab.train.LrFinder;
import dev.normlab.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;

/**
 * {@code --lr-find}: a run's lr chosen by the range test on its own model, data and seed, as
 * Lightning's {@code auto_lr_find} does — so that norms are compared each at an lr that suits it,
 * not all at one.
 */
final class LrFromRangeTest {
  private LrFromRangeTest() {}

  /** The config to train with and what the run's record adds to its config. */
  record Found(TrainConfig config, Map<String, Object> recorded) {}

  /**
   * With {@code --lr-find}, {@link #find}; without, the config as it is and what {@code
   * --lr-for-batch} records (the two exclude each other).
   */
  static Found ifAsked(TrainOptions opts, TrainConfig config, String label, PrintStream out)
      throws IOException {
    return opts.lrFind ? find(config, label, out) : new Found(config, opts.lrScalingRecord());
  }

  /** Runs the test (lr-find's defaults) for {@code config} and returns it at the suggested lr. */
  static Found find(TrainConfig config, String label, PrintStream out) throws IOException {
    long t0 = System.nanoTime();
    LrFinder.Result r = new LrFinder(config, LrFinder.Options.defaults(), null).run();
    double lr = Double.parseDouble(LrFindCommand.lr(r.suggestedLr())); // as printed and named
    out.printf(
        "[%s] lr range test: lowest smoothed loss at lr %s, training at lr %s (%.1f s)%n",
        label,
        LrFindCommand.lr(r.minLossLr()),
        LrFindCommand.lr(lr),
        (System.nanoTime() - t0) / 1e9);
    return new Found(
        config.withLr(lr),
        Map.of("lr_find", Map.of("min_loss_lr", r.minLossLr(), "steps", r.points().size())));
  }
}
