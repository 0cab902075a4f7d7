package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.cli.Main;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
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
            "none,instance",
            "--epochs",
            "1",
            "--limit-train",
            "128",
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
    assertEquals(java.util.List.of("none", "instance"), java.util.List.copyOf(r.runs().keySet()));
    CompareResults.Run in = r.runs().get("instance");
    assertEquals(2, in.steps().size(), "128 images in batches of 64");
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
    Dataset test =
        Datasets.builder()
            .dataDir(Repo.datasets())
            .build()
            .loadSplit(MnistLike.MNIST, false)
            .head(64);
    CompareFigures.Mistakes m = CompareFigures.mistakes(ckpt, "none", test, MnistLike.MNIST, 5);
    assertEquals(5, m.indices().length, "an untrained net gets more than 5 of 64 wrong");
    for (int i : m.indices()) {
      assertTrue(m.predictions().predicted()[i] != m.predictions().labels()[i]);
    }
    BufferedImage grid = CompareFigures.mistakesGrid(java.util.List.of(m), "t");
    assertTrue(grid.getWidth() > 5 * 84, "five 3x-scaled digits in a row");
    assertTrue(Files.exists(ckpt));
  }
}
