package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** `normlab bench`: its throughput line, and with `--profile` where a step's time goes. */
class BenchProfileCliTest {
  @Test
  void aTableOfModulesAndOpsThenTheOptimizerTheRestAndTheStep() {
    Cli.Result r =
        Cli.inProcess(
            "bench",
            "--profile",
            "--norms",
            "batch",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--no-wait-for-jit",
            "--batch-size",
            "8",
            "--threads",
            "1");
    assertEquals(0, r.exit(), r.all());
    String out = r.out();
    assertTrue(out.startsWith("[batch] batch 8, 1 threads, 2 steps after 1 untimed\nmodule "), out);
    assertTrue(
        out.matches(
            "(?s).*\nconv2 \\(Conv2d\\) +conv2d +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+%\n.*"),
        out);
    assertTrue(out.matches("(?s).*\nnorm1 \\(BatchNorm2d\\) +batch_norm +1 .*"), out);
    assertTrue(out.contains("\n(optimizer)                    zero_grad + step "), out);
    assertTrue(out.matches("(?s).*\nstep: [0-9.]+ ms \\(wall time, everything above\\)\n"), out);
    // the shares of the rows add up to the step (to rounding)
    double shares = 0;
    for (String line : out.split("\n")) {
      if (line.endsWith("%")) {
        shares += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1, line.length() - 1));
      }
    }
    assertEquals(100, shares, 1.5, out);
  }

  @Test
  void theThroughputLineSaysHowManyStepsWarmedUp() {
    Cli.Result r =
        Cli.inProcess(
            "bench",
            "--norms",
            "none",
            "--steps",
            "1",
            "--warmup",
            "3",
            "--no-wait-for-jit",
            "--batch-size",
            "4",
            "--threads",
            "1");
    assertEquals(0, r.exit(), r.all());
    assertTrue(
        r.out()
            .matches(
                "java norm=none steps=1 images_per_s=[0-9.]+ ms_per_step=[0-9.]+ warmup_steps=3"
                    + " jit_settled=(true|false)\n"),
        r.out());
  }

  @Test
  void badCountsAreUsageErrors() {
    assertEquals(
        2, Cli.inProcess("bench", "--profile", "--steps", "0").assertNoStackTrace().exit());
  }
}
