package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare's JIT warm-up runs before the first norm and moves none of the runs' numbers. */
class CompareWarmUpTest {
  @TempDir Path tmp;

  private Cli.Result compare(String warmupSteps, String out) {
    return Cli.inProcess(
            "compare",
            "--norms",
            "batch",
            "--limit-train",
            "128",
            "--limit-test",
            "64",
            "--threads",
            "2",
            "--no-track",
            "--warmup-steps",
            warmupSteps,
            "--out",
            tmp.resolve(out).toString())
        .assertNoStackTrace();
  }

  /** The table's norm, accuracy and loss columns (time and images/s left out). */
  private static List<String> accuracyAndLoss(String out) {
    return out.lines()
        .filter(l -> l.startsWith("batch "))
        .map(l -> String.join(" ", List.of(l.trim().split("\\s+")).subList(0, 3)))
        .toList();
  }

  @Test
  void warmUpIsAnnouncedAndChangesNoResult() {
    Cli.Result cold = compare("0", "cold");
    Cli.Result warm = compare("3", "warm");
    assertEquals(0, cold.exit(), cold.all());
    assertEquals(0, warm.exit(), warm.all());
    assertFalse(cold.err().contains("warming up"), cold.err());
    assertTrue(warm.err().contains("warming up: 3 untimed steps of each model"), warm.err());
    List<String> coldRows = accuracyAndLoss(cold.out());
    assertEquals(1, coldRows.size(), cold.out());
    assertEquals(coldRows, accuracyAndLoss(warm.out()));
  }
}
