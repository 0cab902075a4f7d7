package dev.normlab.cli;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code normlab runs diff A B}: the dashboard's run comparer in a terminal. */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    description = {
      "What differs between two runs: name, group, status, tags, notes, error, config (with where"
          + " they ran, env.*) and summary; --all shows what they share too.",
      "Example: normlab runs diff 3f9a 7c01   (two runs of one seed: the machine, the vector width"
          + " or the code?)"
    })
final class RunsDiffCommand implements Callable<Integer> {
  @Mixin RunsEditCommands.StoreOption store = new RunsEditCommands.StoreOption();

  @Parameters(index = "0", paramLabel = "ID", description = "a run id or unique id prefix")
  String a;

  @Parameters(index = "1", paramLabel = "ID", description = "another")
  String b;

  @Option(names = "--all", description = "also the rows where the two runs agree")
  boolean all;

  @Override
  public Integer call() {
    try (RunStore s = RunStore.openExisting(store.store)) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = RunsEditCommands.resolve(q, List.of(a, b));
      if (runs.size() < 2) {
        throw new IllegalArgumentException(a + " and " + b + " are the same run");
      }
      Map<String, String[]> rows = new TreeMap<>();
      for (int i = 0; i < 2; i++) {
        RunQuery.RunInfo r = runs.get(i);
        String id = r.id();
        put(rows, "name", i, r.name());
        put(rows, "group", i, r.group());
        put(rows, "status", i, r.status());
        put(rows, "tags", i, String.join(", ", r.tags()));
        put(rows, "notes", i, r.notes());
        put(rows, "error", i, r.error());
        for (var e : q.config(id).entrySet()) {
          put(rows, "config." + e.getKey(), i, e.getValue().json());
        }
        for (var e : q.summary(id).entrySet()) {
          Double v = e.getValue().value();
          put(rows, "summary." + e.getKey(), i, v == null ? "null" : String.valueOf(v));
        }
      }
      int width = "key".length();
      for (String k : rows.keySet()) {
        width = Math.max(width, k.length());
      }
      String f = "%-" + width + "s  %s  |  %s%n";
      System.out.printf(f, "key", runs.get(0).id(), runs.get(1).id());
      int differ = 0;
      for (var e : rows.entrySet()) {
        String[] v = e.getValue();
        boolean same = Objects.equals(v[0], v[1]);
        differ += same ? 0 : 1;
        if (all || !same) {
          System.out.printf(f, e.getKey(), v[0] == null ? "-" : v[0], v[1] == null ? "-" : v[1]);
        }
      }
      System.out.printf("%d of %d rows differ%n", differ, rows.size());
    }
    return 0;
  }

  private static void put(Map<String, String[]> rows, String key, int i, String value) {
    rows.computeIfAbsent(key, k -> new String[2])[i] = value;
  }
}
