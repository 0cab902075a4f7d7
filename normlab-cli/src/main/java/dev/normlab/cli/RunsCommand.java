package dev.normlab.cli;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code normlab runs}: the runs in the store, newest first. */
@Command(
    name = "runs",
    mixinStandardHelpOptions = true,
    description = {
      "List the runs in the store: id, name, group, status, test accuracy, start, runtime.",
      "Edit and compare them: normlab runs delete|tag|untag|note|diff|importance ... (see"
          + " normlab runs <command> --help)."
    },
    subcommands = {
      RunsEditCommands.Delete.class,
      RunsEditCommands.Tag.class,
      RunsEditCommands.Untag.class,
      RunsEditCommands.Note.class,
      RunsDiffCommand.class,
      RunsImportanceCommand.class
    })
final class RunsCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Option(names = "--group", description = "only runs of this group")
  String group;

  @Option(
      names = "--status",
      description = "only runs with this status: running, finished, failed or killed")
  String status;

  @Option(names = "--tag", description = "only runs with this tag (e.g. a norm or dataset)")
  String tag;

  @Override
  public Integer call() {
    if (status != null && !List.of("running", "finished", "failed", "killed").contains(status)) {
      throw new IllegalArgumentException(
          "unknown status '" + status + "' (running, finished, failed or killed)");
    }
    try (RunStore s = RunStore.openExisting(store)) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = q.runs(new RunQuery.Filter(group, status, tag));
      if (runs.isEmpty()) {
        System.out.println(
            "no runs"
                + (group != null || status != null || tag != null ? " match" : "")
                + " in "
                + s.file());
        return 0;
      }
      System.out.print(table(q, runs));
    }
    return 0;
  }

  static String table(RunQuery q, List<RunQuery.RunInfo> runs) {
    List<String[]> rows = new java.util.ArrayList<>();
    rows.add(new String[] {"id", "name", "group", "status", "test acc (%)", "started", "runtime"});
    for (RunQuery.RunInfo r : runs) {
      var acc = q.summary(r.id()).get("test/accuracy");
      Double runtime = r.runtimeSeconds();
      rows.add(
          new String[] {
            r.id(),
            r.name(),
            r.group() == null ? "-" : r.group(),
            r.status(),
            acc == null || acc.value() == null ? "-" : String.format("%.2f", acc.value()),
            TIME.format(Instant.ofEpochMilli(Math.round(r.startedAt() * 1000))),
            runtime == null ? "-" : ConsoleListener.hms(runtime)
          });
    }
    int[] width = new int[7];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        boolean right = i == 4 || i == 6; // numbers right-aligned
        String cell = right ? " ".repeat(width[i] - row[i].length()) + row[i] : row[i];
        sb.append(cell);
        if (i < row.length - 1) {
          sb.append(right ? "" : " ".repeat(width[i] - row[i].length())).append("  ");
        }
      }
      sb.append(System.lineSeparator());
    }
    return sb.toString();
  }
}
