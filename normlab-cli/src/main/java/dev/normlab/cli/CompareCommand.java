package dev.normlab.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code normlab compare}: the reference experiment, one run per normalization type. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = {
      "Train the reference CNN once per normalization type and compare test accuracy and loss.",
      "Default: the full replication (10 epochs on all 60,000 images). --quick: 1 epoch on 6,400."
    })
final class CompareCommand implements Callable<Integer> {
  @Mixin TrainOptions opts = new TrainOptions();

  @Mixin RunSeries series = new RunSeries();

  @Override
  public Integer call() throws Exception {
    series.prepare(opts);
    for (String n : series.norms) {
      opts.config(n, "check"); // fail fast on a typo or a bad value, before any training
    }
    List<Long> seeds = series.seedList(opts);
    String g = series.groupName(opts);
    try (Tracking tracking = Tracking.open(opts.noTrack ? null : opts.storePath())) {
      List<RunSeries.Run> runs =
          series.train(opts, g, List.of(RunSeries.Point.NONE), p -> {}, tracking, seeds, null);
      RunSeries.printEnd(runs, seeds.size() > 1, g, opts, tracking);
      if (seeds.size() > 1) {
        // how much of the spread is the norm's and how much the seed's
        System.out.println();
        System.out.print(RunSeries.importance(runs));
      }
      // The other norms still ran, but a compare with a diverged norm did not do its job.
      return runs.stream().anyMatch(RunSeries.Run::diverged) ? 1 : 0;
    }
  }
}
