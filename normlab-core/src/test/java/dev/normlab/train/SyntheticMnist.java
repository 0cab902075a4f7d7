package dev.normlab.train;

import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a tiny MNIST-shaped dataset (28x28 bytes, labels 0..9) as raw IDX files, so that trainer
 * tests need no downloaded data; loaded with checksum verification off (it is not the real MNIST).
 */
final class SyntheticMnist {
  private SyntheticMnist() {}

  static Datasets write(Path root, int train, int test) throws IOException {
    Path dir = root.resolve(MnistLike.MNIST.dirName());
    Files.createDirectories(dir);
    SplittableRandom r = new SplittableRandom(42);
    Files.write(dir.resolve(MnistLike.TRAIN_IMAGES), images(train, r));
    Files.write(dir.resolve(MnistLike.TRAIN_LABELS), labels(train, r));
    Files.write(dir.resolve(MnistLike.TEST_IMAGES), images(test, r));
    Files.write(dir.resolve(MnistLike.TEST_LABELS), labels(test, r));
    return Datasets.builder().dataDir(root).verify(false).download(false).build();
  }

  private static byte[] images(int n, SplittableRandom r) {
    byte[] px = new byte[n * 28 * 28];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) r.nextInt(256);
    }
    return idx(new int[] {n, 28, 28}, px);
  }

  private static byte[] labels(int n, SplittableRandom r) {
    byte[] l = new byte[n];
    for (int i = 0; i < n; i++) {
      l[i] = (byte) r.nextInt(10);
    }
    return idx(new int[] {n}, l);
  }

  private static byte[] idx(int[] dims, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0, 0, 8, (byte) dims.length});
    for (int d : dims) {
      out.writeBytes(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
    }
    out.writeBytes(data);
    return out.toByteArray();
  }

  /** A config for {@code epochs} epochs of batch 16 on the synthetic data, one thread. */
  static TrainConfig config(String norm, int epochs, Path checkpoints) {
    return new TrainConfig(
        "mnist", norm, 8, epochs, 0.01, 0.9, 0.0, 16, 7, 1, null, 0, 0, checkpoints, false);
  }
}
