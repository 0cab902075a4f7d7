package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.autograd.GradMode;
import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.norm.BatchNormBase;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * What the robustness test is for: a network with Instance Norm after its first convolution does
 * not see an affine change of each image's intensities (brightness, contrast below 1), one with
 * Batch Norm in eval mode does; an inversion reaches both.
 */
class RobustnessTest {
  /** Raw MNIST-shaped images: dark backgrounds with bright blobs, random labels. */
  private static Dataset images() {
    return images(40);
  }

  /** {@code n} such images; {@link FeatureMapsTest} looks at their feature maps. */
  static Dataset images(int n) {
    SplittableRandom r = new SplittableRandom(3);
    float[] px = new float[n * 784];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(10);
      int cy = 6 + r.nextInt(16), cx = 6 + r.nextInt(16);
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
          px[i * 784 + y * 28 + x] = (float) Math.floor(255 * Math.exp(-d2 / 20) * r.nextDouble());
        }
      }
    }
    return new Dataset("blobs", px, labels, 28, 28, MnistLike.MNIST.classes(), false);
  }

  /** The model's logits for every image, shifted as {@link Robustness} shifts them. */
  private static float[] logits(ReferenceCnn model, String shift) {
    Tensor x = shiftedBatch(images(), InputShift.parse(shift));
    try (var g = GradMode.noGrad()) {
      model.eval();
      return model.forward(x).data().clone();
    }
  }

  /** Asserts how far each shift moves the logits: under 1 % of their spread, or over 5 %. */
  private static void assertMoves(ReferenceCnn model, boolean moves, String... shifts) {
    float[] clean = logits(model, "clean");
    for (String shift : shifts) {
      double moved = moved(clean, logits(model, shift));
      assertTrue(moves ? moved > 0.05 : moved < 0.01, shift + ": " + moved);
    }
  }

  /** How far the logits moved, relative to their spread over the images and classes. */
  private static double moved(float[] clean, float[] shifted) {
    double mean = 0;
    for (float v : clean) {
      mean += v / clean.length;
    }
    double spread = 0, diff = 0;
    for (int i = 0; i < clean.length; i++) {
      spread += (clean[i] - mean) * (clean[i] - mean);
      diff += (shifted[i] - clean[i]) * (shifted[i] - clean[i]);
    }
    return Math.sqrt(diff / spread);
  }

  @Test
  void instanceNormDoesNotSeeAnAffineChangeOfTheImage() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.INSTANCE, 8, new Rng(5));
    // the norm's eps is all that moves them: 1e-5 against the first convolution's channel
    // variances, which brightness 0.2 takes to a twenty-fifth (0.3 % here)
    assertMoves(model, false, "brightness=0.2", "contrast=0.2", "contrast=0.5");
    // clipped (contrast above 1), inverted or noisy, the image is not an affine map with a > 0
    assertMoves(model, true, "invert", "contrast=3", "noise=0.5");
  }

  @Test
  void batchNormInEvalModeSeesIt() {
    assertMoves(
        new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(5)),
        true,
        "brightness=0.2",
        "contrast=0.2",
        "contrast=0.5");
  }

  @Test
  void adaptedBatchNormStatisticsAreTheShiftedImagesOwnAndArePutBack() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(5));
    var norm1 = (BatchNormBase) model.namedChildren().get("norm1");
    var norm2 = (BatchNormBase) model.namedChildren().get("norm2");
    Dataset d = images(600); // three batches of the loader: 256, 256, 88
    InputShift darker = InputShift.parse("brightness=0.2");
    Robustness.adaptBatchNorm(model, d, MnistLike.MNIST, darker, 0);
    // norm1's: conv1's output over all 600 images at once, per channel, in double
    Tensor x = shiftedBatch(d, darker);
    float[] y;
    try (var g = GradMode.noGrad()) {
      y = model.namedChildren().get("conv1").forward(x).data();
    }
    int c = 32, hw = 26 * 26;
    for (int ch = 0; ch < c; ch++) {
      double sum = 0;
      for (int i = 0; i < 600; i++) {
        for (int j = 0; j < hw; j++) {
          sum += y[(i * c + ch) * hw + j];
        }
      }
      double mean = sum / (600.0 * hw);
      double ss = 0;
      for (int i = 0; i < 600; i++) {
        for (int j = 0; j < hw; j++) {
          double e = y[(i * c + ch) * hw + j] - mean;
          ss += e * e;
        }
      }
      assertEquals(mean, norm1.runningMean().data()[ch], 1e-6 * (1 + Math.abs(mean)));
      assertEquals(ss / (600.0 * hw - 1), norm1.runningVar().data()[ch], 1e-6 * ss / (600.0 * hw));
    }
    assertTrue(norm2.runningVar().data()[0] != 1f, "norm2 adapted too");

    // through evaluate: the statistics before are back afterwards, bit for bit
    ReferenceCnn fresh = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(5));
    var f1 = (BatchNormBase) fresh.namedChildren().get("norm1");
    f1.runningMean().data()[3] = 0.25f;
    float[] mean1 = f1.runningMean().data().clone();
    float[] var2 = ((BatchNormBase) fresh.namedChildren().get("norm2")).runningVar().data().clone();
    Robustness.evaluate(fresh, images(), MnistLike.MNIST, List.of(darker), 0, true, r -> {});
    assertArrayEquals(mean1, f1.runningMean().data());
    assertArrayEquals(
        var2, ((BatchNormBase) fresh.namedChildren().get("norm2")).runningVar().data());
  }

  @Test
  void adaptedBatchNormDoesNotSeeABrightnessChange() {
    // a change of every image's brightness by one factor is one affine map per channel for the
    // whole test set: statistics taken on the shifted set cancel it, as Instance Norm's do per
    // image
    Dataset d = images();
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(5));
    Robustness.adaptBatchNorm(model, d, MnistLike.MNIST, InputShift.CLEAN, 0);
    float[] clean = logits(model, "clean");
    Robustness.adaptBatchNorm(model, d, MnistLike.MNIST, InputShift.parse("brightness=0.2"), 0);
    double moved = moved(clean, logits(model, "brightness=0.2"));
    assertTrue(moved < 0.01, "adapted: " + moved);
  }

  /** All of {@code d}'s images, shifted and normalized, as one batch. */
  static Tensor shiftedBatch(Dataset d, InputShift s) {
    try (DataLoader l =
        DataLoader.builder(d)
            .batchSize(d.size())
            .shuffle(false)
            .transform(
                Transforms.compose(
                    Transforms.toUnit(),
                    s.transform(),
                    Transforms.normalize(MnistLike.MNIST.mean(), MnistLike.MNIST.std())))
            .build()) {
      return l.iterator().next().images();
    }
  }

  @Test
  void cleanComesFirstThenEachShiftOnce() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.INSTANCE, 8, new Rng(5));
    var results =
        Robustness.evaluate(
            model,
            images(),
            MnistLike.MNIST,
            InputShift.parseList("brightness=0.2,clean,invert,brightness=0.2"),
            0);
    assertEquals(
        List.of("clean", "brightness=0.2", "invert"),
        results.stream().map(r -> r.shift().spec()).toList());
    // the clean evaluation is the trainer's, with the dataset's standard transform
    try (DataLoader l =
        DataLoader.builder(images())
            .batchSize(1000)
            .shuffle(false)
            .transform(Transforms.standard(MnistLike.MNIST))
            .build()) {
      Trainer.Evaluation ev = Trainer.evaluate(model, l, 10, null);
      assertEquals(ev.loss(), results.get(0).evaluation().loss(), 0.0);
      assertEquals(ev.accuracy(), results.get(0).evaluation().accuracy(), 0.0);
    }
  }

  @Test
  void theNoiseIsTheSameForTheSameSeed() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.GROUP, 8, new Rng(5));
    var shifts = InputShift.parseList("noise=0.5");
    double a =
        Robustness.evaluate(model, images(), MnistLike.MNIST, shifts, 1).get(1).evaluation().loss();
    double b =
        Robustness.evaluate(model, images(), MnistLike.MNIST, shifts, 1).get(1).evaluation().loss();
    double c =
        Robustness.evaluate(model, images(), MnistLike.MNIST, shifts, 2).get(1).evaluation().loss();
    assertEquals(a, b, 0.0);
    assertTrue(a != c, "another seed, other noise");
  }

  @Test
  void predictionsCarryTheImagesAsTheModelSawThem() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.LAYER, 8, new Rng(5));
    Dataset d = images();
    List<Robustness.Result> results =
        Robustness.evaluate(
            model,
            d,
            MnistLike.MNIST,
            InputShift.parseList("invert,brightness=0.5"),
            0,
            false,
            true,
            r -> {});
    Predictions clean = results.get(0).predictions();
    Predictions inverted = results.get(1).predictions();
    Predictions darker = results.get(2).predictions();
    // the clean images are the dataset's, byte for byte, as the trainer's predictions have them
    Predictions.Builder trainer =
        new Predictions.Builder(d, MnistLike.MNIST.classes().toArray(String[]::new));
    try (DataLoader l =
        DataLoader.builder(d)
            .batchSize(7)
            .shuffle(false)
            .transform(Transforms.standard(MnistLike.MNIST))
            .build()) {
      Trainer.evaluate(model, l, 10, trainer);
    }
    Predictions expected = trainer.build();
    assertEquals(d.size(), clean.size());
    for (int i = 0; i < d.size(); i++) {
      assertEquals(i, clean.exampleIds()[i]);
      assertArrayEquals(expected.images()[i], clean.images()[i], "clean image " + i);
      assertEquals(expected.predicted()[i], clean.predicted()[i]);
      assertEquals(d.labels()[i], inverted.labels()[i]);
      for (int j = 0; j < 784; j++) {
        int v = Byte.toUnsignedInt(expected.images()[i][j]);
        assertEquals(255 - v, Byte.toUnsignedInt(inverted.images()[i][j]), "inverted pixel");
        // half of an odd value rounds either way
        assertEquals(v / 2.0, Byte.toUnsignedInt(darker.images()[i][j]), 0.5, "darker pixel");
      }
    }
    // the predictions agree with each result's accuracy
    for (Robustness.Result r : results) {
      Predictions p = r.predictions();
      long right = 0;
      for (int i = 0; i < p.size(); i++) {
        right += p.predicted()[i] == p.labels()[i] ? 1 : 0;
      }
      assertEquals(r.evaluation().accuracy(), 100.0 * right / p.size(), 1e-9, r.shift().spec());
    }
    assertEquals(
        null, Robustness.evaluate(model, d, MnistLike.MNIST, List.of(), 0).get(0).predictions());
  }
}
