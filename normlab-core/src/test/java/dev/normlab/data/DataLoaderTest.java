package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.DType;
import dev.normlab.tensor.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLoaderTest {

  /** n images of 4x4 whose pixels all equal the image index; label = index % 10. */
  static Dataset tiny(int n) {
    float[] im = new float[n * 16];
    int[] lb = new int[n];
    for (int i = 0; i < n; i++) {
      Arrays.fill(im, i * 16, i * 16 + 16, i);
      lb[i] = i % 10;
    }
    return new Dataset("tiny", im, lb, 4, 4, MnistLike.MNIST.classes(), false);
  }

  private static List<int[]> epoch(DataLoader dl) {
    List<int[]> out = new ArrayList<>();
    for (DataLoader.Batch b : dl) {
      out.add(b.indices());
    }
    return out;
  }

  @Test
  void mnistPreprocessingIsPyTorchsBitForBit() {
    float[] px = new float[256];
    for (int v = 0; v < 256; v++) {
      px[v] = v;
    }
    Transforms.standard(MnistLike.MNIST).apply(px, 0, 16, 16, new Rng(0));
    float[] torch =
        dev.normlab.testing.KeyedFixtures.load("/fixtures/rng/rng_fixtures.txt")
            .floats("mnist_standard_pixels");
    assertArrayEquals(torch, px, "x / 255 then (x - 0.1307) / 0.3081, as the PyTorch twin");
  }

  @Test
  void batchesShapesAndContent() {
    try (DataLoader dl = DataLoader.builder(tiny(10)).batchSize(4).build()) {
      assertEquals(3, dl.numBatches());
      List<DataLoader.Batch> bs = new ArrayList<>();
      dl.forEach(bs::add);
      assertEquals(3, bs.size());
      DataLoader.Batch b = bs.get(1);
      assertArrayEquals(new int[] {4, 1, 4, 4}, b.images().shape());
      assertArrayEquals(new int[] {4}, b.labels().shape());
      assertEquals(DType.INT64, b.labels().dtype());
      assertArrayEquals(new int[] {4, 5, 6, 7}, b.indices());
      assertEquals(5f, b.images().get(1, 0, 3, 3));
      assertEquals(7f, b.labels().get(3));
      assertEquals(2, bs.get(2).size());
      assertEquals(1, dl.epoch());
      assertEquals(0, dl.batchIndex());
    }
  }

  @Test
  void dropLast() {
    try (DataLoader dl = DataLoader.builder(tiny(10)).batchSize(4).dropLast(true).build()) {
      assertEquals(2, dl.numBatches());
      assertEquals(2, epoch(dl).size());
    }
  }

  @Test
  void shuffleIsSeededAndAPermutationEachEpoch() {
    DataLoader a = DataLoader.builder(tiny(50)).batchSize(7).shuffle(true).seed(42).build();
    DataLoader b = DataLoader.builder(tiny(50)).batchSize(7).shuffle(true).seed(42).build();
    DataLoader c = DataLoader.builder(tiny(50)).batchSize(7).shuffle(true).seed(43).build();
    List<int[]> a1 = epoch(a);
    List<int[]> a2 = epoch(a);
    List<int[]> b1 = epoch(b);
    List<int[]> c1 = epoch(c);
    int[] flat1 = a1.stream().flatMapToInt(Arrays::stream).toArray();
    int[] flat2 = a2.stream().flatMapToInt(Arrays::stream).toArray();
    assertArrayEquals(flat1, b1.stream().flatMapToInt(Arrays::stream).toArray());
    assertFalse(Arrays.equals(flat1, flat2), "each epoch has its own permutation");
    assertFalse(Arrays.equals(flat1, c1.stream().flatMapToInt(Arrays::stream).toArray()));
    int[] sorted = flat1.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < 50; i++) {
      assertEquals(i, sorted[i]);
    }
    // The epoch permutation is Rng.permutation from the loader's own generator.
    assertArrayEquals(new Rng(42).permutation(50), flat1);
    a.close();
    b.close();
    c.close();
  }

  @Test
  void resumeContinuesTheSameOrderAndAugmentations() {
    Transform aug =
        Transforms.compose(Transforms.randomCrop(1, 0f), Transforms.randomHorizontalFlip(0.5));
    Dataset ds = tiny(30);
    // Give pixels structure so crops and flips are visible.
    for (int i = 0; i < ds.images().length; i++) {
      ds.images()[i] += (i % 16) * 0.01f;
    }
    DataLoader full =
        DataLoader.builder(ds).batchSize(4).shuffle(true).seed(7).transform(aug).build();
    List<float[]> expected = new ArrayList<>();
    for (int e = 0; e < 3; e++) {
      for (DataLoader.Batch b : full) {
        expected.add(b.images().toArray());
      }
    }
    DataLoader first =
        DataLoader.builder(ds).batchSize(4).shuffle(true).seed(7).transform(aug).build();
    List<float[]> got = new ArrayList<>();
    for (DataLoader.Batch b : first) {
      got.add(b.images().toArray());
    }
    var it = first.iterator();
    for (int k = 0; k < 3; k++) {
      got.add(it.next().images().toArray());
    }
    DataLoader.State st = first.state();
    assertEquals(1, st.epoch());
    assertEquals(3, st.batchIndex());
    first.close();
    DataLoader.State decoded = DataLoader.State.decode(st.encode());
    assertEquals(st, decoded);
    DataLoader resumed =
        DataLoader.builder(ds)
            .batchSize(4)
            .shuffle(true)
            .seed(999)
            .transform(aug)
            .prefetch(false)
            .build();
    // The seed of the resumed loader does not matter for the order, only for augmentation...
    resumed.close();
    DataLoader resumed2 =
        DataLoader.builder(ds).batchSize(4).shuffle(true).seed(7).transform(aug).build();
    resumed2.restore(decoded);
    while (got.size() < expected.size()) {
      for (DataLoader.Batch b : resumed2) {
        got.add(b.images().toArray());
      }
    }
    assertEquals(expected.size(), got.size());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), got.get(i), "batch " + i);
    }
    resumed2.close();
  }

  @Test
  void prefetchGivesTheSameBatches() {
    Transform aug = Transforms.randomCrop(2, 0f);
    DataLoader p =
        DataLoader.builder(tiny(23)).batchSize(5).shuffle(true).seed(3).transform(aug).build();
    DataLoader q =
        DataLoader.builder(tiny(23))
            .batchSize(5)
            .shuffle(true)
            .seed(3)
            .transform(aug)
            .prefetch(false)
            .build();
    for (int e = 0; e < 2; e++) {
      var ip = p.iterator();
      var iq = q.iterator();
      while (iq.hasNext()) {
        assertTrue(ip.hasNext());
        var bp = ip.next();
        var bq = iq.next();
        assertArrayEquals(bq.indices(), bp.indices());
        assertArrayEquals(bq.images().toArray(), bp.images().toArray());
      }
      assertFalse(ip.hasNext());
    }
    p.close();
    q.close();
  }

  @Test
  void transforms() {
    float[] px = new float[] {0, 255, 51, 102};
    Transforms.standard(MnistLike.MNIST).apply(px, 0, 2, 2, null);
    assertEquals((0 - 0.1307f) / 0.3081f, px[0], 1e-6);
    assertEquals((1 - 0.1307f) / 0.3081f, px[1], 1e-6);
    float[] img = {1, 2, 3, 4, 5, 6};
    Transforms.hflip(img, 0, 2, 3);
    assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, img);
    // Crop with padding: the result is the image shifted by (dy, dx) in -p..p with zero fill.
    Rng rng = new Rng(5);
    int shifted = 0;
    for (int t = 0; t < 50; t++) {
      float[] a = new float[9];
      for (int i = 0; i < 9; i++) {
        a[i] = i + 1;
      }
      Transforms.randomCrop(1, 0f).apply(a, 0, 3, 3, rng);
      float sum = 0;
      for (float v : a) {
        sum += v;
      }
      assertTrue(sum <= 45);
      if (sum < 45) {
        shifted++;
      }
      if (a[4] != 5) {
        // centre came from a neighbour
        assertNotEquals(0f, a[4]);
      }
    }
    assertTrue(shifted > 30);
    float[] f = {1, 2};
    Transforms.randomHorizontalFlip(1.0).apply(f, 0, 1, 2, new Rng(1));
    assertArrayEquals(new float[] {2, 1}, f);
  }
}
