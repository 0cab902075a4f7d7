package dev.normlab.cli;

import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.Trainer;
import dev.normlab.train.TrainingListener;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code normlab train}: one run of the reference CNN. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Train the reference CNN with one normalization type.")
final class TrainCommand implements Callable<Integer> {
  @Mixin TrainOptions opts = new TrainOptions();

  @Option(
      names = "--norm",
      defaultValue = "batch",
      description = "none, batch, instance, layer or group (default: ${DEFAULT-VALUE})")
  String norm;

  @Option(names = "--name", description = "run name (default: <dataset>-<norm>-s<seed>)")
  String name;

  @Option(
      names = "--group",
      defaultValue = "train",
      description = "run group in the store (default: ${DEFAULT-VALUE})")
  String group;

  @Override
  public Integer call() throws Exception {
    String runName = name != null ? name : opts.dataset + "-" + norm + "-s" + opts.seed;
    TrainConfig planned = opts.config(norm, runName);
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      var found = LrFromRangeTest.ifAsked(opts, planned, norm, System.out);
      TrainConfig config = found.config();
      RunSeries.LastWatch watched = new RunSeries.LastWatch();
      TrainingListener listener =
          TrainingListener.all(
              new ConsoleListener(norm, System.out, System.err),
              tracking.listener(runName, group, config, found.recorded()),
              watched);
      TrainResult r = new Trainer(config, listener).run();
      System.out.printf(
          "final: norm %s  test acc %.2f%%  test loss %.4f  train time %s%n",
          norm,
          r.last().testAccuracy(),
          r.last().testLoss(),
          ConsoleListener.hms(r.trainSeconds()));
      if (opts.watchEvery > 0) {
        var run = RunSeries.Run.finished(norm, opts.seed, RunSeries.Point.NONE, r, 0, watched);
        System.out.print(RunSeries.watchTable(java.util.List.of(run), false));
      }
      RunSeries.printPeakMemory(System.out);
      tracking.printWhere(System.out);
      if (!opts.noTrack) {
        System.out.println(
            "report:      ./normlab report --group "
                + group
                + tracking.storeOption()
                + " --out report.html");
      }
      System.out.println("checkpoints: " + r.checkpointDir().toAbsolutePath());
    }
    return 0;
  }
}
