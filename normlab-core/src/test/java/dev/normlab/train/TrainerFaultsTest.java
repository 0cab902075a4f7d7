package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.io.AtomicFiles;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NaN/Inf during training and a full disk stop the run with one clear message. */
class TrainerFaultsTest {
  @TempDir Path tmp;

  /** Records the failure the trainer reports (what the run store marks as failed). */
  static final class Failures implements TrainingListener {
    final List<Throwable> seen = new ArrayList<>();

    @Override
    public void onFailure(Throwable error) {
      seen.add(error);
    }
  }

  @Test
  void nonFiniteLossStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16);
    TrainConfig c =
        SyntheticMnist.config("batch", 1, tmp.resolve("run")).withLr(1e30).withCheckpointEvery(1);
    Failures f = new Failures();
    NumericalFaultException e =
        assertThrows(NumericalFaultException.class, () -> new Trainer(c, f, data).run());
    Path step = tmp.resolve("run").resolve("step.safetensors");
    assertEquals(2, e.step(), e.getMessage());
    assertTrue(e.getMessage().startsWith("step 2 (epoch 1): loss became NaN"), e.getMessage());
    assertTrue(e.getMessage().contains("--detect-anomaly"), e.getMessage());
    assertTrue(e.getMessage().endsWith("last good checkpoint: " + step), e.getMessage());
    assertEquals(step, e.lastGoodCheckpoint());
    assertEquals(List.of(e), f.seen, "the listener hears of the failure");
    Checkpoint good = Checkpoint.load(step);
    assertEquals(1, good.info().step());
    for (var t : good.modelState().values()) {
      for (float v : t.data()) {
        assertTrue(Float.isFinite(v), "the kept checkpoint holds the last finite weights");
      }
    }
  }

  @Test
  void weightsSpoiledByAnUpdateAreNeverCheckpointed() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16);
    // lr 1e300 is infinite in float: step 1's loss is finite, the weights after it are not.
    TrainConfig c =
        SyntheticMnist.config("none", 1, tmp.resolve("run")).withLr(1e300).withCheckpointEvery(1);
    Failures f = new Failures();
    NumericalFaultException e =
        assertThrows(NumericalFaultException.class, () -> new Trainer(c, f, data).run());
    assertTrue(
        e.getMessage()
            .matches(
                "step 1 \\(epoch 1\\): conv1\\.weight became (NaN|-?Infinity) after"
                    + " the update \\(run with --detect-anomaly .*\\); last good checkpoint: none yet"),
        e.getMessage());
    assertFalse(Files.exists(tmp.resolve("run").resolve("step.safetensors")));
    assertEquals(1, f.seen.size());
  }

  @Test
  void anomalyModeNamesTheFirstModuleThatWentNonFinite() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16);
    TrainConfig c =
        SyntheticMnist.config("group", 1, tmp.resolve("run"))
            .withLr(1e30)
            .withCheckpointEvery(1)
            .withDetectAnomaly(true);
    Failures f = new Failures();
    NumericalFaultException e =
        assertThrows(NumericalFaultException.class, () -> new Trainer(c, f, data).run());
    // After one step with lr 1e30 the weights are huge: conv1's output is still finite (one
    // input channel, 9 taps), conv2 sums 288 products of it and overflows first.
    assertEquals(
        "step 2 (epoch 1): output of conv2d in conv2 (Conv2d) became -Inf; last good checkpoint: "
            + tmp.resolve("run").resolve("step.safetensors"),
        e.getMessage().replace("+Inf", "-Inf"));
    assertInstanceOf(dev.normlab.autograd.AnomalyException.class, e.getCause());
    assertEquals(1, f.seen.size());
    assertEquals(1, Checkpoint.load(e.lastGoodCheckpoint()).info().step());
  }

  @Test
  void fullDiskFailsTheRunWithOneMessageAndKeepsThePreviousCheckpoint() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16);
    Path full = tmp.resolve("full");
    Files.createDirectories(full);
    // A checkpoint of the reference CNN is ~9.6 MB: 12 MB holds one, not a second beside it.
    boolean mounted = mount(full, "12m");
    if (!mounted) {
      AtomicFiles.setChannelDecoratorForTests(FailAfter.bytes(12L << 20));
    }
    System.out.println(
        "disk-full test: " + (mounted ? "12 MB tmpfs" : "simulated ENOSPC (mount not permitted)"));
    try {
      TrainConfig c =
          SyntheticMnist.config("instance", 1, full.resolve("run")).withCheckpointEvery(1);
      Failures f = new Failures();
      CheckpointException e =
          assertThrows(CheckpointException.class, () -> new Trainer(c, f, data).run());
      Path step = full.resolve("run").resolve("step.safetensors");
      assertEquals(
          "could not write checkpoint "
              + step
              + ": No space left on device (the previous step.safetensors is intact)",
          e.getMessage());
      assertFalse(e.getMessage().contains("\n"));
      assertEquals(List.of(e), f.seen);
      assertEquals(1, Checkpoint.load(step).info().step(), "the step-1 checkpoint still loads");
      try (Stream<Path> files = Files.list(step.getParent())) {
        assertEquals(
            List.of("step.safetensors"),
            files.map(p -> p.getFileName().toString()).toList(),
            "no temp file left behind");
      }
    } finally {
      AtomicFiles.setChannelDecoratorForTests(null);
      if (mounted) {
        run("umount", full.toString());
      }
    }
  }

  /** Throws "No space left on device" once {@code limit} bytes were written in this JVM. */
  static final class FailAfter implements WritableByteChannel {
    private static long written;
    private final WritableByteChannel inner;
    private final long limit;

    private FailAfter(WritableByteChannel inner, long limit) {
      this.inner = inner;
      this.limit = limit;
    }

    static java.util.function.UnaryOperator<WritableByteChannel> bytes(long limit) {
      written = 0;
      return ch -> new FailAfter(ch, limit);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = Math.min(src.remaining(), 1 << 20);
      if (written + n > limit) {
        throw new IOException("No space left on device");
      }
      ByteBuffer part = src.slice(src.position(), n);
      int w = inner.write(part);
      src.position(src.position() + w);
      written += w;
      return w;
    }

    @Override
    public boolean isOpen() {
      return inner.isOpen();
    }

    @Override
    public void close() throws IOException {
      inner.close();
    }
  }

  static boolean mount(Path dir, String size) {
    return run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
  }

  private static boolean run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
