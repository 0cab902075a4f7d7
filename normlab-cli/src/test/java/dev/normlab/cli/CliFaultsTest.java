package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Numerical faults, a full disk and running out of memory, as a user of the CLI sees them. */
class CliFaultsTest {
  @TempDir Path tmp;

  private String[] train(Path out, String... more) {
    List<String> a =
        new java.util.ArrayList<>(
            List.of(
                "train",
                "--norm",
                "group",
                "--threads",
                "1",
                "--limit-train",
                "64",
                "--limit-test",
                "16",
                "--epochs",
                "1",
                "--batch-size",
                "16",
                "--no-track",
                "--name",
                "run",
                "--data-dir",
                Cli.sharedDatasets().toString(),
                "--out",
                out.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void anomalyStopsTheRunNamingStepAndLayer() throws Exception {
    Path out = tmp.resolve("out");
    Cli.Result r =
        Cli.inProcess(train(out, "--lr", "1e30", "--checkpoint-every", "1", "--detect-anomaly"))
            .assertNoStackTrace();
    assertEquals(1, r.exit(), r.all());
    Path step = out.resolve("checkpoints/run/step.safetensors");
    assertEquals(
        "normlab train: error: step 2 (epoch 1): output of conv2d in conv2 (Conv2d) became -Inf;"
            + " last good checkpoint: "
            + step,
        r.err()
            .lines()
            .filter(l -> l.startsWith("normlab"))
            .findFirst()
            .orElse("")
            .replace("+Inf", "-Inf"));
    assertEquals(1, Checkpoint.load(step).info().step(), "the last good checkpoint loads");
    // eval works on it, too
    Cli.Result ev = Cli.inProcess("eval", "--checkpoint", step.toString(), "--limit-test", "16");
    assertEquals(0, ev.exit(), ev.all());
  }

  @Test
  void nanLossWithoutAnomalyModeSuggestsIt() throws Exception {
    Path out = tmp.resolve("out");
    Cli.Result r = Cli.inProcess(train(out, "--lr", "1e30")).assertNoStackTrace();
    assertEquals(1, r.exit(), r.all());
    assertTrue(
        r.err()
            .contains(
                "normlab train: error: step 2 (epoch 1): loss became NaN (run with --detect-anomaly to"
                    + " find the first layer that produced it); last good checkpoint: none yet"),
        r.err());
  }

  @Test
  void fullDiskFailsCleanlyAndKeepsThePreviousCheckpoint() throws Exception {
    Path full = tmp.resolve("full");
    Files.createDirectories(full);
    // One ~9.6 MB checkpoint fits in 12 MB, a second beside it does not.
    boolean mounted = mount(full, "12m");
    System.out.println("CLI disk-full test: " + (mounted ? "12 MB tmpfs" : "simulated ENOSPC"));
    if (!mounted) {
      dev.normlab.io.AtomicFiles.setChannelDecoratorForTests(
          ch ->
              new java.nio.channels.WritableByteChannel() {
                @Override
                public int write(java.nio.ByteBuffer src) throws IOException {
                  throw new IOException("No space left on device");
                }

                @Override
                public boolean isOpen() {
                  return true;
                }

                @Override
                public void close() {}
              });
    }
    try {
      Cli.Result r = Cli.inProcess(train(full, "--checkpoint-every", "1")).assertNoStackTrace();
      assertEquals(1, r.exit(), r.all());
      Path step = full.resolve("checkpoints/run/step.safetensors");
      if (mounted) {
        assertEquals(
            List.of(
                "normlab train: error: could not write checkpoint "
                    + step
                    + ": No space left on device (the previous step.safetensors is intact)"),
            r.err().lines().filter(l -> l.startsWith("normlab")).toList());
        assertEquals(1, Checkpoint.load(step).info().step());
      } else {
        assertTrue(r.err().contains("No space left on device"), r.err());
      }
    } finally {
      dev.normlab.io.AtomicFiles.setChannelDecoratorForTests(null);
      if (mounted) {
        new ProcessBuilder("umount", full.toString()).start().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void outOfMemoryGetsAClearMessage() throws Exception {
    // 48 MB of heap cannot hold MNIST's 47 MB of training pixels (188 MB as floats).
    Cli.Result r =
        Cli.child(
            tmp.resolve("logs"),
            "oom",
            List.of("-Xmx48m"),
            "train",
            "--no-track",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--data-dir",
            Cli.sharedDatasets().toString(),
            "--out",
            tmp.resolve("out").toString());
    r.assertNoStackTrace();
    assertEquals(1, r.exit(), r.all());
    assertTrue(
        r.err().contains("normlab: error: out of memory (Java heap limit ")
            && r.err().contains("NORMLAB_JAVA_OPTS=-Xmx4g"),
        r.err());
  }

  private static boolean mount(Path dir, String size) throws InterruptedException {
    try {
      Process p =
          new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
