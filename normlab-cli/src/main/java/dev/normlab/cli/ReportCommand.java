package dev.normlab.cli;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.track.web.ReportWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code normlab report}: one self-contained HTML file for a group of runs. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Write one self-contained HTML file (charts, summary, predictions) for a group of runs.",
      "It opens from disk in a browser, with no server and no network."
    })
final class ReportCommand implements Callable<Integer> {
  @Option(
      names = "--group",
      description = "the run group to report (default: the group of the latest run in the store)")
  String group;

  @Option(
      names = "--out",
      defaultValue = "report.html",
      description = "output file (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Option(
      names = "--max-predictions",
      defaultValue = "1000",
      description = "predictions kept per run, mistakes first (default: ${DEFAULT-VALUE})")
  int maxPredictions;

  @Option(
      names = "--max-shifted-predictions",
      defaultValue = "200",
      description =
          "predictions kept per shifted test set of a run (normlab robustness), mistakes first"
              + " (default: ${DEFAULT-VALUE})")
  int maxShiftedPredictions;

  @Option(
      names = "--max-table-rows",
      defaultValue = "" + ReportWriter.Limits.DEFAULT_TABLE_ROWS,
      description =
          "rows kept of each typed table of a run (normlab feature-maps', your own), the first ones"
              + " (default: ${DEFAULT-VALUE})")
  int maxTableRows;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    RunStore.requireExisting(store);
    String chosen = group != null ? group : latestGroup();
    ReportWriter.Result r =
        ReportWriter.write(
            store,
            chosen,
            out,
            new ReportWriter.Limits(maxPredictions, maxShiftedPredictions, maxTableRows));
    spec.commandLine()
        .getOut()
        .printf(
            Locale.ROOT,
            "wrote %s (%d runs of group %s, %.1f MB)%n",
            r.file(),
            r.runs(),
            chosen,
            r.bytes() / 1e6);
    return 0;
  }

  /** The group of the run started last: what a user just ran is what they report. */
  private String latestGroup() {
    try (RunStore s = RunStore.openExisting(store)) {
      List<RunQuery.RunInfo> runs = s.query().runs(RunQuery.Filter.all());
      if (runs.isEmpty()) {
        throw new IllegalArgumentException(
            store + " has no runs yet (run train or compare first, or pass --store)");
      }
      return runs.get(0).group();
    }
  }
}
