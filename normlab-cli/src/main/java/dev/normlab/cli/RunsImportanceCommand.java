package dev.normlab.cli;

import dev.normlab.track.analysis.ParameterImportance;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code normlab runs importance}: the dashboard's parameter-importance panel in a terminal. */
@Command(
    name = "importance",
    mixinStandardHelpOptions = true,
    description = {
      "Which config parameters a result depends on over stored runs: each parameter that varies,"
          + " its share of a random forest's variance reduction, Spearman's correlation (numbers)"
          + " or each value's mean result (words), and the out-of-bag R² (the dashboard's panel"
          + " under the parallel plot).",
      "Example: normlab runs importance --group <a sweep's group> --metric robustness/invert"
    })
final class RunsImportanceCommand implements Callable<Integer> {
  @Mixin RunsEditCommands.StoreOption store = new RunsEditCommands.StoreOption();

  @Option(names = "--group", description = "only runs of this group")
  String group;

  @Option(names = "--tag", description = "only runs with this tag")
  String tag;

  @Option(
      names = "--metric",
      defaultValue = "test/accuracy",
      description = "the result, a summary key (default: ${DEFAULT-VALUE})")
  String metric;

  @Override
  public Integer call() {
    try (RunStore s = RunStore.openExisting(store.store)) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = q.runs(new RunQuery.Filter(group, null, tag));
      if (runs.isEmpty()) {
        throw new IllegalArgumentException(
            "no runs" + (group != null || tag != null ? " match" : "") + " in " + s.file());
      }
      List<ParameterImportance.Observation> obs = new ArrayList<>();
      for (RunQuery.RunInfo r : runs) {
        Map<String, Object> config = new LinkedHashMap<>();
        q.config(r.id()).forEach((k, v) -> config.put(k, v.value()));
        RunQuery.SummaryValue v = q.summary(r.id()).get(metric);
        obs.add(
            new ParameterImportance.Observation(
                config, v == null || v.value() == null ? Double.NaN : v.value()));
      }
      ParameterImportance.Result res = ParameterImportance.of(metric, obs);
      if (res.reason() != null) {
        throw new IllegalArgumentException(res.reason() + " (of " + runs.size() + " runs)");
      }
      System.out.print(RunSeries.importanceBlock(res, "runs with a value", "mean"));
      if (res.runsWithoutMetric() > 0) {
        System.out.println("left out: " + res.runsWithoutMetric() + " runs without " + metric);
      }
      res.leftOut().forEach((k, why) -> System.out.println("not ranked: " + k + " (" + why + ")"));
    }
    return 0;
  }
}
