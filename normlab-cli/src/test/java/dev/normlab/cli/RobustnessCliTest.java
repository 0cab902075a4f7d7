package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `normlab robustness` over the runs of a small comparison on real MNIST. */
class RobustnessCliTest {
  @TempDir Path dir;

  private Cli.Result robustness(String... args) {
    List<String> all = new ArrayList<>(List.of("robustness", "--store", db().toString()));
    all.addAll(List.of(args));
    all.addAll(TrackingCliTest.dataDirArgs());
    return Cli.inProcess(all.toArray(String[]::new)).assertNoStackTrace();
  }

  private Path db() {
    return dir.resolve("runs.db");
  }

  /** The accuracy columns of the table's row for {@code norm}. */
  private static double[] row(String out, String norm) {
    String line =
        out.lines()
            .filter(l -> l.matches("\\S+-" + norm + " +" + norm + " .*"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no row for " + norm + " in\n" + out));
    String[] f = line.trim().split(" +");
    double[] acc = new double[f.length - 2];
    for (int i = 0; i < acc.length; i++) {
      acc[i] = Double.parseDouble(f[i + 2]);
    }
    return acc;
  }

  @Test
  void eachRunIsEvaluatedCleanAndShiftedAndTheAccuraciesAreStored() {
    Cli.Result c = Cli.smallSeries("compare", "none,batch,instance", dir, "--group", "g");
    assertEquals(0, c.exit(), c.all());
    // the comparison names the command, with its store (not the default one)
    String store = db().toAbsolutePath().normalize().toString();
    assertTrue(
        c.out().contains("\nrobustness:  ./normlab robustness --group g --store " + store + "\n"),
        c.out());
    assertTrue(c.out().contains("report --group g --store " + store + " --out report.html"));
    assertTrue(
        c.out().contains("\nactivations: ./normlab feature-maps --group g --store " + store + "\n"),
        c.out());

    // a part of the test set: printed, not stored
    Cli.Result part =
        robustness(
            "--group",
            "g",
            "--limit-test",
            "64",
            "--shifts",
            "brightness=0.2,invert",
            "--adapt-bn");
    assertEquals(0, part.exit(), part.all());
    String table = part.out().substring(part.out().indexOf("\nrun "));
    assertTrue(
        table.matches(
            "(?s)\nrun +norm +clean +brightness=0.2 +invert\ng-none +none .*\ng-batch +batch .*\ng-batch \\(adapted\\) +batch .*\ng-instance +instance .*"),
        "one row per run, in the order they trained:\n" + part.out());
    // each evaluation as soon as it is done
    assertTrue(
        part.out()
            .matches(
                "(?s).*\\[3/3\\] g-instance: clean \\d+\\.\\d\\d brightness=0.2 \\d+\\.\\d\\d"
                    + " invert \\d+\\.\\d\\d\n.*"),
        part.out());
    // each run's most frequent answer on each set, a row per evaluation as above
    String answers =
        part.out()
            .substring(part.out().indexOf("\nmost frequent answer on each set"))
            .lines()
            .skip(3) // the blank line, the title, the header
            .takeWhile(l -> l.startsWith("g-"))
            .collect(java.util.stream.Collectors.joining("\n"));
    assertTrue(
        answers.matches(
            "(?s)g-none +none( +\\d \\(\\d+\\.\\d %\\)){3}\ng-batch +batch .*\ng-batch \\(adapted\\)"
                + " +batch .*\ng-instance +instance( +\\d \\(\\d+\\.\\d %\\)){3}"),
        part.out());
    double[] in = row(part.out(), "instance");
    assertEquals(in[0], in[1], 100.0 / 64 + 1e-9, "Instance Norm does not see the darker images");
    assertTrue(part.out().contains("not saved:   --limit-test evaluates part of the test set"));
    String instanceId;
    try (RunStore s = RunStore.openExisting(db())) {
      RunQuery q = s.query();
      instanceId = q.latestNamed(runName(q, "instance"), "g").orElseThrow().id();
      assertFalse(q.summary(instanceId).containsKey("robustness/clean"));
      // clean, on the same 64 images, it is the run's own evaluation of its best epoch
      assertEquals(q.summary(instanceId).get("test/accuracy").value(), in[0], 0.005);
    }

    // one run by its id prefix, the whole test set: stored in its summary
    Cli.Result whole = robustness(instanceId.substring(0, 6), "--shifts", "brightness=0.2");
    assertEquals(0, whole.exit(), whole.all());
    assertTrue(
        whole
            .out()
            .contains(
                "saved:       robustness/<shift> in the summaries of 1 runs, and their predictions"
                    + " on each shifted set in "),
        whole.out());
    assertTrue(
        whole.out().contains("#parallel?metrics=robustness/clean,robustness/brightness_0.2"),
        whole.out());
    try (RunStore s = RunStore.openExisting(db())) {
      Map<String, RunQuery.SummaryValue> summary = s.query().summary(instanceId);
      double clean = summary.get("robustness/clean").value();
      double darker = summary.get("robustness/brightness_0.2").value();
      assertEquals(row(whole.out(), "instance")[0], clean, 0.005);
      assertEquals(clean, darker, 100.0 / 10_000 + 1e-9);

      // each set's predictions, for the dashboard: every test image, agreeing with the accuracy
      RunQuery q = s.query();
      List<RunQuery.ShiftedSet> sets = q.shiftedSets(instanceId);
      assertEquals(
          List.of(
              new RunQuery.ShiftedSet("clean", "mnist/clean", clean, 10_000),
              new RunQuery.ShiftedSet("brightness_0.2", "mnist/brightness_0.2", darker, 10_000)),
          sets);
      List<RunQuery.Prediction> ownClean = s.query().predictions(instanceId, true);
      List<RunQuery.Prediction> shifted = q.shiftedPredictions(instanceId, "brightness_0.2", true);
      List<RunQuery.Prediction> unshifted = q.shiftedPredictions(instanceId, "clean", true);
      long right = shifted.stream().filter(p -> p.predicted() == p.label()).count();
      // the printed most frequent answer is the stored predictions'
      long[] count = new long[10];
      shifted.forEach(p -> count[p.predicted()]++);
      int most = 0;
      for (int k = 1; k < 10; k++) {
        most = count[k] > count[most] ? k : most;
      }
      String answerLine =
          whole
              .out()
              .substring(whole.out().indexOf("\nmost frequent answer"))
              .lines()
              .filter(l -> l.startsWith("g-instance"))
              .findFirst()
              .orElseThrow();
      assertTrue(
          answerLine.endsWith(String.format("%d (%.1f %%)", most, count[most] / 100.0)),
          answerLine);
      assertEquals(darker, right / 100.0, 1e-9);
      // the clean images are the run's own test images (it trained with 64 of them)
      assertEquals(64, ownClean.size());
      for (RunQuery.Prediction own : ownClean) {
        assertArrayEquals(own.png(), unshifted.get(own.exampleId()).png());
      }
      for (int i = 0; i < 10_000; i += 997) {
        // the darker ones a fifth as bright
        assertEquals(i, shifted.get(i).exampleId());
        int[] px = grey(unshifted.get(i).png());
        int[] dark = grey(shifted.get(i).png());
        for (int j = 0; j < px.length; j++) {
          assertEquals(px[j] * 0.2, dark[j], 0.5 + 1e-3, "pixel " + j + " of example " + i);
        }
      }
    }
    assertTrue(
        whole
            .out()
            .contains(
                "\nmistakes:    http://127.0.0.1:8080/#predictions?run="
                    + instanceId
                    + "&set=brightness_0.2\n"),
        whole.out());

    // the accuracies only: the sets stay as they were
    Cli.Result only = robustness(instanceId, "--shifts", "invert", "--no-predictions");
    assertEquals(0, only.exit(), only.all());
    assertFalse(only.out().contains("mistakes:"), only.out());
    assertFalse(only.out().contains("most frequent answer"), only.out());
    try (RunStore s = RunStore.openExisting(db())) {
      assertEquals(
          List.of("clean", "brightness_0.2"),
          s.query().shiftedSets(instanceId).stream().map(RunQuery.ShiftedSet::shift).toList());
      assertTrue(s.query().summary(instanceId).containsKey("robustness/invert"));
    }
  }

  /** The grey values of a PNG. */
  private static int[] grey(byte[] png) {
    try {
      java.awt.image.BufferedImage img =
          javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
      return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void runsThatDifferInTheirSeedAreAveraged() {
    Map<String, List<double[]>> bySetting = new java.util.LinkedHashMap<>();
    bySetting.put(
        "g-batch", List.of(new double[] {98, 70}, new double[] {97, 80}, new double[] {99, 90}));
    bySetting.put("g-instance", List.of(new double[] {97.5, 97.5}));
    var rows =
        RobustnessCommand.seedMeans(
            bySetting, Map.of("g-batch", "batch", "g-instance", "instance"));
    assertEquals(
        List.of(
            "g-batch (3)|batch|98.00 ±1.00|80.00 ±10.00",
            "g-instance (1)|instance|97.50 ±0.00|97.50 ±0.00"),
        rows.stream().map(r -> String.join("|", r)).toList());
    String table =
        RobustnessCommand.table(
            dev.normlab.data.InputShift.parseList("clean,brightness=0.2"), rows);
    assertEquals(
        "run             norm            clean  brightness=0.2\n"
            + "g-batch (3)     batch     98.00 ±1.00    80.00 ±10.00\n"
            + "g-instance (1)  instance  97.50 ±0.00     97.50 ±0.00\n",
        table);
  }

  private static String runName(RunQuery q, String norm) {
    return q.runs(new RunQuery.Filter("g", null, null)).stream()
        .map(RunQuery.RunInfo::name)
        .filter(n -> n.endsWith("-" + norm))
        .findFirst()
        .orElseThrow();
  }
}
