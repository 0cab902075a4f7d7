package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code normlab runs importance}: the dashboard's importance panel over a store's runs. */
class RunsImportanceCliTest {
  @TempDir Path dir;
  private String db;

  private static final Map<String, Double> LEVEL =
      Map.of("none", 91.0, "batch", 93.0, "group", 94.0);

  /**
   * A sweep's nine runs, norm x lr, accuracy set by the norm and a little by the lr; a tenth run of
   * the group without a test accuracy (it diverged), and a run of another group.
   */
  @BeforeEach
  void store() throws Exception {
    Path file = dir.resolve("runs.db");
    db = file.toString();
    try (RunStore s = RunStore.open(file)) {
      for (String norm : List.of("none", "batch", "group")) {
        for (double lr : new double[] {0.01, 0.03, 0.1}) {
          try (RunWriter w =
              s.newRun(norm + "-" + lr)
                  .group("sweep")
                  .config(Map.of("norm", norm, "lr", lr, "nesterov", false, "epochs", 1))
                  .start()) {
            w.log("test/accuracy", 1, LEVEL.get(norm) + 10 * lr);
            w.log("test/loss", 1, 1 - LEVEL.get(norm) / 100);
            w.finish();
          }
        }
      }
      try (RunWriter w =
          s.newRun("diverged")
              .group("sweep")
              .config(Map.of("norm", "layer", "lr", 0.3, "nesterov", true, "epochs", 1))
              .start()) {
        w.log("train/loss", 1, 2.3);
        w.finish();
      }
      try (RunWriter w = s.newRun("elsewhere").group("other").config(Map.of("lr", 1.0)).start()) {
        w.log("test/accuracy", 1, 10.0);
        w.finish();
      }
    }
  }

  @Test
  void ranksTheVaryingParametersOfTheGroup() {
    Cli.Result r = Cli.inProcess("runs", "importance", "--group", "sweep", "--store", db);
    assertEquals(0, r.exit(), r.all());
    List<String> lines = r.out().lines().toList();
    assertTrue(
        lines
            .get(0)
            .startsWith("parameter importance for test/accuracy (random forest over 9 runs"),
        r.out());
    List<String[]> params =
        lines.stream().filter(l -> l.startsWith("  ")).map(l -> l.trim().split("\\s+")).toList();
    // norm and lr vary over the runs with an accuracy; nesterov only with the diverged run's
    assertEquals(List.of("lr", "norm"), params.stream().map(p -> p[0]).sorted().toList(), r.out());
    assertEquals(1.0, params.stream().mapToDouble(p -> Double.parseDouble(p[1])).sum(), 0.0101);
    String norm = lines.stream().filter(l -> l.startsWith("  norm")).findFirst().orElseThrow();
    // each norm's mean over its three lrs (10 * (0.01 + 0.03 + 0.1) / 3 = 0.4667 over its level)
    assertTrue(norm.endsWith("mean group 94.47, batch 93.47, none 91.47"), norm);
    String lr = lines.stream().filter(l -> l.startsWith("  lr")).findFirst().orElseThrow();
    assertTrue(lr.contains("Spearman 0.32"), lr); // ranks of lr against accuracy, ties shared
    assertTrue(r.out().contains("left out: 1 runs without test/accuracy"), r.out());
  }

  @Test
  void anotherMetricAndWhatCannotBeRanked() {
    Cli.Result loss =
        Cli.inProcess(
            "runs", "importance", "--group", "sweep", "--metric", "test/loss", "--store", db);
    assertEquals(0, loss.exit(), loss.all());
    assertTrue(loss.out().startsWith("parameter importance for test/loss "), loss.out());
    Cli.Result none =
        Cli.inProcess("runs", "importance", "--metric", "no/such", "--store", db)
            .assertNoStackTrace();
    assertEquals(1, none.exit(), none.all());
    assertTrue(
        none.err().contains("needs at least 3 runs with a value of no/such, has 0 (of 11 runs)"),
        none.err());
    Cli.Result missing =
        Cli.inProcess("runs", "importance", "--group", "nope", "--store", db).assertNoStackTrace();
    assertEquals(1, missing.exit(), missing.all());
    assertTrue(missing.err().contains("no runs match in"), missing.err());
  }
}
