package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Loads the real MNIST and Fashion-MNIST from ../shared/datasets (skipped when absent). */
class RealDatasetsTest {

  private static Datasets offline(Path shared) {
    return Datasets.builder()
        .dataDir(shared)
        .env(k -> null)
        .cacheRoot(Path.of("/nonexistent-normlab-cache"))
        .download(false)
        .build();
  }

  @Test
  void mnistTrainAndTest() throws Exception {
    Path shared = SharedData.require("mnist");
    Datasets ds = offline(shared);
    Dataset train = ds.loadSplit(MnistLike.MNIST, true);
    Dataset test = ds.loadSplit(MnistLike.MNIST, false);
    assertEquals(60000, train.size());
    assertEquals(10000, test.size());
    assertEquals(28, train.rows());
    assertEquals(28, train.cols());
    assertFalse(train.scaled());
    // Known facts about MNIST: the first training label is 5, the first test label is 7.
    assertEquals(5, train.labels()[0]);
    assertEquals(7, test.labels()[0]);
    double sum = 0;
    for (float v : train.images()) {
      sum += v;
    }
    assertEquals(0.1307, sum / train.images().length / 255, 1e-4);
    int[] counts = new int[10];
    for (int l : train.labels()) {
      counts[l]++;
    }
    assertEquals(5923, counts[0]);
    assertEquals(6742, counts[1]);
  }

  @Test
  void fashionMnistAndSharedLookup() throws Exception {
    Path shared = SharedData.require("fashion-mnist");
    // Found through the repository root, with no explicit dir and no environment variable.
    Datasets ds =
        Datasets.builder()
            .env(k -> null)
            .cacheRoot(Path.of("/nonexistent-normlab-cache"))
            .download(false)
            .build();
    assertTrue(ds.sharedDatasets().isPresent());
    Dataset test = ds.loadSplit(MnistLike.FASHION_MNIST, false);
    assertEquals(10000, test.size());
    assertEquals("Ankle boot", test.classes().get(test.labels()[0]));
    assertEquals(9, test.labels()[0]);
  }

  @Test
  void embeddedSumsMatchSha256SumsFiles() throws Exception {
    Path shared = SharedData.datasets().orElse(null);
    assertTrue(shared != null, "the shared datasets (../shared/datasets) are required");
    for (MnistLike m : new MnistLike[] {MnistLike.MNIST, MnistLike.FASHION_MNIST}) {
      var sums = Datasets.readSums(shared.resolve(m.dirName()).resolve("SHA256SUMS"));
      if (sums.isEmpty()) {
        continue;
      }
      for (String f : MnistLike.allFiles()) {
        assertEquals(sums.get(f), m.knownSha256(f), m + " " + f);
      }
    }
  }
}
