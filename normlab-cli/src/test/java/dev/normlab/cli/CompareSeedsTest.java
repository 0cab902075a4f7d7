package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code compare --seeds}: one run per norm and seed, and a summary of each norm's spread. */
class CompareSeedsTest {
  @TempDir Path tmp;

  private Cli.Result compare(String out, String... extra) {
    return Cli.smallSeries("compare", "batch,group", tmp.resolve(out), extra);
  }

  /** The accuracy column of the table's rows for {@code norm} (with or without a seed column). */
  private static List<Double> accuracies(String out, String norm, int column) {
    return out.lines()
        .takeWhile(l -> !l.startsWith("norm ") || !l.contains("seeds"))
        .filter(l -> l.startsWith(norm + " "))
        .map(l -> Double.parseDouble(l.trim().split("\\s+")[column]))
        .toList();
  }

  @Test
  void eachSeedIsTheRunThatSeedGivesAloneAndTheSummaryAveragesThem() throws Exception {
    Cli.Result both = compare("both", "--seeds", "3,5");
    assertEquals(0, both.exit(), both.all());
    assertTrue(both.out().contains("[group-s5] epoch 1:"), both.out());
    List<Double> batch = accuracies(both.out(), "batch", 2);
    assertEquals(2, batch.size(), both.out());
    assertEquals(2, accuracies(both.out(), "group", 2).size(), both.out());
    for (int i = 0; i < 2; i++) {
      Cli.Result alone = compare("alone" + i, "--seed", i == 0 ? "3" : "5", "--no-track");
      assertEquals(0, alone.exit(), alone.all());
      assertEquals(accuracies(alone.out(), "batch", 1), List.of(batch.get(i)), alone.out());
    }
    String summary =
        both.out().lines().filter(l -> l.startsWith("batch ")).reduce((a, b) -> b).orElseThrow();
    String[] f = summary.trim().split("\\s+");
    assertEquals("2", f[1], summary); // seeds
    assertEquals((batch.get(0) + batch.get(1)) / 2, Double.parseDouble(f[2]), 0.006, summary);
    assertEquals(Math.min(batch.get(0), batch.get(1)), Double.parseDouble(f[4]), 1e-9, summary);
    assertEquals(Math.max(batch.get(0), batch.get(1)), Double.parseDouble(f[5]), 1e-9, summary);
    // then how much of the spread is the norm's and how much the seed's: a line for each, the
    // norm's with each norm's mean over its seeds
    List<String> importance =
        both.out()
            .lines()
            .dropWhile(
                l -> !l.startsWith("parameter importance for test accuracy (random forest over 4"))
            .skip(1)
            .takeWhile(l -> l.startsWith("  "))
            .toList();
    assertEquals(
        List.of("norm", "seed"),
        importance.stream().map(l -> l.trim().split("\\s+")[0]).sorted().toList(),
        both.out());
    String norm =
        importance.stream().filter(l -> l.trim().startsWith("norm ")).findFirst().orElseThrow();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("batch (\\d+\\.\\d\\d)").matcher(norm);
    assertTrue(m.find(), norm);
    assertEquals((batch.get(0) + batch.get(1)) / 2, Double.parseDouble(m.group(1)), 0.006, norm);
    // Four runs in the store and the CSV, each under its norm and seed.
    String csv =
        Files.readString(
            Files.list(tmp.resolve("both/results"))
                .findFirst()
                .orElseThrow()
                .resolve("metrics.csv"));
    for (String label : List.of("batch-s3", "group-s3", "batch-s5", "group-s5")) {
      assertTrue(csv.contains("\n" + label + ",epoch,1,"), label);
    }
    Cli.Result runs = Cli.inProcess("runs", "--store", tmp.resolve("both/runs.db").toString());
    assertEquals(
        4,
        runs.out().lines().filter(l -> l.contains("-s3 ") || l.contains("-s5 ")).count(),
        runs.out());
  }

  @Test
  void seedAndSeedsTogetherOrARepeatedSeedAreUsageErrors() {
    Cli.Result r = compare("x", "--seed", "1", "--seeds", "0,1", "--no-track");
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("give --seed or --seeds, not both"), r.err());
    r = compare("x", "--seeds", "0,1,0", "--no-track");
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("--seeds repeats a seed: [0, 1, 0]"), r.err());
  }

  @Test
  void watchAddsATableOfEachRunsLastWatchedStepAsTheStoreHasIt() throws Exception {
    Cli.Result r = compare("w", "--watch", "1", "--group", "w");
    assertEquals(0, r.exit(), r.all());
    List<String> table =
        r.out()
            .lines()
            .dropWhile(l -> !l.startsWith("inside the network"))
            .skip(2)
            .limit(2)
            .toList();
    assertEquals(2, table.size(), r.out());
    try (RunStore s = RunStore.openExisting(tmp.resolve("w/runs.db"))) {
      RunQuery q = s.query();
      for (String row : table) {
        String[] f = row.trim().split("\\s+");
        String norm = f[0];
        assertEquals("20", f[1], row); // 10 epochs of 128 images in batches of 64
        String id =
            q.runs(RunQuery.Filter.all()).stream()
                .filter(x -> x.name().equals("w-" + norm))
                .findFirst()
                .orElseThrow()
                .id();
        double conv2 = q.history(id, "watch/act_std/conv2").get(19).value();
        assertEquals(String.format("%.3f", conv2), f[2], row);
        double deadFc1 = q.history(id, "watch/dead_relu/fc1").get(19).value();
        assertEquals(String.format("%.1f%%", 100 * deadFc1), f[5], row);
      }
    }
    // resumed when complete: nothing trains, nothing is watched, and the table says so
    Cli.Result again = compare("w", "--watch", "1", "--group", "w", "--resume");
    assertEquals(0, again.exit(), again.all());
    assertTrue(again.out().matches("(?s).*\nbatch +- +- .*"), again.out());
    assertTrue(again.out().contains("(-: no step watched in this command"), again.out());
    Cli.Result plain = compare("p", "--no-track");
    assertTrue(!plain.out().contains("inside the network"), plain.out());
  }
}
