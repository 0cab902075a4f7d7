package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.cli.Main;
import dev.normlab.data.Dataset;
import dev.normlab.data.MnistLike;
import dev.normlab.examples.figures.CompareFigures;
import dev.normlab.examples.figures.CompareResults;
import dev.normlab.io.Checkpoint;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareFiguresTest {
  @Test
  void readsWhatCompareWritesAndDrawsIt(@TempDir Path out) throws Exception {
    int code =
        Main.run(
            "compare",
            "--norms",
            "instance",
            "--epochs",
            "1",
            "--limit-train",
            "64",
            "--limit-test",
            "64",
            "--threads",
            "1",
            "--no-track",
            "--data-dir",
            Repo.datasets().toString(),
            "--out",
            out.toString(),
            "--group",
            "g");
    assertEquals(0, code);
    CompareResults r = CompareResults.read(CompareResults.metricsFile(out, "g"));
    assertEquals(java.util.List.of("instance"), java.util.List.copyOf(r.runs().keySet()));
    CompareResults.Run in = r.runs().get("instance");
    assertEquals(1, in.steps().size(), "64 images in one batch of 64");
    assertEquals(1, in.epochs().size());
    assertTrue(in.last().testAccuracy() >= 0 && in.last().testAccuracy() <= 100);
    assertTrue(in.last().imagesPerSecond() > 0);
    assertTrue(r.markdownTable().contains("| instance | "), r.markdownTable());

    BufferedImage curves = CompareFigures.curves(r, "t");
    assertEquals(CompareFigures.CURVES_WIDTH, curves.getWidth());
    assertEquals(CompareFigures.CURVES_HEIGHT, curves.getHeight());
    assertTrue(CompareFigures.parallel(r, "t").getWidth() > 0);
  }

  @Test
  void missingResultsAreOneClearError(@TempDir Path out) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CompareResults.read(CompareResults.metricsFile(out, "nope")));
    assertTrue(e.getMessage().contains("no compare results"), e.getMessage());
  }

  @Test
  void mistakesAreWrongPredictionsOfTheCheckpoint(@TempDir Path dir) throws Exception {
    Path ckpt = dir.resolve("best.safetensors");
    Checkpoint.save(
        ckpt,
        new ReferenceCnn(ReferenceCnn.Norm.NONE, new Rng(0)),
        null,
        new Checkpoint.Info(1, 1));
    // Random images, all labelled 3: an untrained net cannot get many of them right.
    float[] pixels = dev.normlab.tensor.Tensor.rand(new Rng(1), 32 * 28 * 28).mul(255f).toArray();
    int[] labels = new int[32];
    java.util.Arrays.fill(labels, 3);
    Dataset test = new Dataset("random", pixels, labels, 28, 28, MnistLike.MNIST.classes(), false);
    CompareFigures.Mistakes m = CompareFigures.mistakes(ckpt, "none", test, MnistLike.MNIST, 5);
    assertEquals(5, m.indices().length, "an untrained net gets more than 5 of 32 wrong");
    for (int i : m.indices()) {
      assertTrue(m.predictions().predicted()[i] != m.predictions().labels()[i]);
    }
    BufferedImage grid = CompareFigures.mistakesGrid(java.util.List.of(m), "t");
    assertTrue(grid.getWidth() > 5 * 84, "five 3x-scaled digits in a row");
    assertTrue(Files.exists(ckpt));
  }
}
