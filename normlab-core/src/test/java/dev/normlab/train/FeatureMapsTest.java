package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.autograd.GradMode;
import dev.normlab.data.Dataset;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.Module;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.FeatureMaps.Example;
import dev.normlab.train.FeatureMaps.FeatureMap;
import dev.normlab.train.FeatureMaps.Grid;
import dev.normlab.train.FeatureMaps.Stats;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The feature maps' grid layout, grey scale and statistics against plain scalar arithmetic, and
 * what they show on the reference CNN: Instance Norm takes every channel's mean to its bias (0 in a
 * fresh model), a fresh Batch Norm in eval mode leaves the channels' means as the convolution made
 * them.
 */
class FeatureMapsTest {
  /** A (C, H, W) map whose values are all different: -(n-1)/2 .. (n-1)/2 in storage order. */
  private static Tensor distinctValues(int c, int h, int w) {
    int n = c * h * w;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i - (n - 1) / 2f;
    }
    return Tensor.of(v, c, h, w);
  }

  /**
   * Checks every pixel of {@code g} against the layout read backwards: a pixel on a tile's right or
   * bottom edge line is a separator, any other is value (y % (h+1), x % (w+1)) of channel 8·(y /
   * (h+1)) + x / (w+1), or a separator past the last channel.
   */
  private static void assertLayout(Tensor map, Grid g) {
    int c = map.size(0), h = map.size(1), w = map.size(2);
    double scale = 0;
    for (float v : map.data()) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int y = 0; y < g.height(); y++) {
      for (int x = 0; x < g.width(); x++) {
        int ch = 8 * (y / (h + 1)) + x / (w + 1);
        boolean line = y % (h + 1) == h || x % (w + 1) == w;
        int expected =
            line || ch >= c
                ? FeatureMaps.SEPARATOR_GREY
                : FeatureMaps.grey(map.get(ch, y % (h + 1), x % (w + 1)), scale);
        assertEquals(expected, g.grey(x, y), "pixel (" + x + ", " + y + ")");
      }
    }
  }

  @Test
  void gridsTileTheChannelsEightToARowWithOnePixelLinesBetween() {
    Grid g32 = FeatureMaps.of(distinctValues(32, 2, 3)).grid();
    assertEquals(8 * 3 + 7, g32.width());
    assertEquals(4 * 2 + 3, g32.height());
    assertLayout(distinctValues(32, 2, 3), g32);
    // channel 9 is the second tile of the second row: its top left pixel at (3 + 1, 2 + 1)
    assertEquals(FeatureMaps.grey(9 * 6 - 95.5, 95.5), g32.grey(4, 3));
    assertEquals(FeatureMaps.SEPARATOR_GREY, g32.grey(3, 0)); // the line after tile 0
    assertEquals(FeatureMaps.SEPARATOR_GREY, g32.grey(0, 2)); // the line under tile 0

    Grid g64 = FeatureMaps.of(distinctValues(64, 1, 2)).grid();
    assertEquals(8 * 2 + 7, g64.width());
    assertEquals(8 * 1 + 7, g64.height());
    assertLayout(distinctValues(64, 1, 2), g64);

    // the reference CNN's sizes: 32 x 26 x 26 (layer 1) and 64 x 24 x 24 (layer 2)
    Grid layer1 = FeatureMaps.of(Tensor.zeros(32, 26, 26)).grid();
    assertEquals(215, layer1.width());
    assertEquals(107, layer1.height());
    Grid layer2 = FeatureMaps.of(Tensor.zeros(64, 24, 24)).grid();
    assertEquals(199, layer2.width());
    assertEquals(199, layer2.height());

    // fewer than 8 channels: one short row; 10: the second row's unused tiles are lines' grey
    Grid g3 = FeatureMaps.of(distinctValues(3, 2, 2)).grid();
    assertEquals(3 * 2 + 2, g3.width());
    assertEquals(2, g3.height());
    assertLayout(distinctValues(3, 2, 2), g3);
    Grid g10 = FeatureMaps.of(distinctValues(10, 2, 2)).grid();
    assertEquals(8 * 2 + 7, g10.width());
    assertEquals(2 * 2 + 1, g10.height());
    assertLayout(distinctValues(10, 2, 2), g10);
  }

  @Test
  void valuesMapToGreyWithOneSymmetricScalePerMap() {
    // s = max|v| = 2: grey = round(127.5 + 127.5 v / 2)
    float[] v = {-2, -1, 0, 1, 2, 0.5f};
    Grid g = FeatureMaps.of(Tensor.of(v, 1, 1, 6)).grid();
    assertArrayEquals(
        new byte[] {0, 64, (byte) 128, (byte) 191, (byte) 255, (byte) 159}, g.pixels());
    // the scale is the whole map's: a large value in another channel darkens this one's -2
    Grid two = FeatureMaps.of(Tensor.of(new float[] {-2, 0, 8, 0}, 2, 1, 2)).grid();
    assertEquals(List.of(96, 128, FeatureMaps.SEPARATOR_GREY, 255, 128), greys(two));
    // only positive values: zero stays mid grey, the largest is white
    Grid positive = FeatureMaps.of(Tensor.of(new float[] {0, 3, 6}, 1, 1, 3)).grid();
    assertEquals(List.of(128, 191, 255), greys(positive));
    // an all-zero map is mid grey, not a division by zero
    FeatureMap zeros = FeatureMaps.of(Tensor.zeros(2, 2, 2));
    assertEquals(0.0, zeros.stats().scale());
    for (int x : List.of(0, 1, 3, 4)) {
      assertEquals(128, zeros.grid().grey(x, 0));
    }
    assertEquals(FeatureMaps.SEPARATOR_GREY, zeros.grid().grey(2, 0));
  }

  private static List<Integer> greys(Grid g) {
    List<Integer> out = new java.util.ArrayList<>();
    for (byte b : g.pixels()) {
      out.add(b & 0xff);
    }
    return out;
  }

  /**
   * The statistics of a (C, H, W) map straight from their definitions, in double: scale, mean, std,
   * channel mean sd, channel std mean.
   */
  private static double[] directStats(float[] d, int offset, int c, int hw) {
    int n = c * hw;
    double scale = 0, sum = 0;
    for (int i = offset; i < offset + n; i++) {
      scale = Math.max(scale, Math.abs(d[i]));
      sum += d[i];
    }
    double mean = sum / n;
    double ss = 0;
    for (int i = offset; i < offset + n; i++) {
      ss += (d[i] - mean) * (d[i] - mean);
    }
    double[] channelMean = new double[c];
    double channelStdSum = 0;
    for (int ch = 0; ch < c; ch++) {
      double s = 0;
      for (int j = 0; j < hw; j++) {
        s += d[offset + ch * hw + j];
      }
      channelMean[ch] = s / hw;
      double css = 0;
      for (int j = 0; j < hw; j++) {
        double e = d[offset + ch * hw + j] - channelMean[ch];
        css += e * e;
      }
      channelStdSum += Math.sqrt(css / hw);
    }
    double meanOfMeans = 0;
    for (double m : channelMean) {
      meanOfMeans += m / c;
    }
    double spread = 0;
    for (double m : channelMean) {
      spread += (m - meanOfMeans) * (m - meanOfMeans);
    }
    return new double[] {scale, mean, Math.sqrt(ss / n), Math.sqrt(spread / c), channelStdSum / c};
  }

  private static void assertStats(double[] expected, Stats s, double tolerance, String what) {
    double[] actual = {s.scale(), s.mean(), s.std(), s.channelMeanSd(), s.channelStdMean()};
    String[] names = {"scale", "mean", "std", "channelMeanSd", "channelStdMean"};
    for (int i = 0; i < expected.length; i++) {
      assertEquals(
          expected[i],
          actual[i],
          tolerance * Math.max(1, Math.abs(expected[i])),
          what + " " + names[i]);
    }
  }

  @Test
  void statisticsAreTheDirectOnes() {
    // channels with different offsets and spreads, so that every statistic is far from 0
    SplittableRandom r = new SplittableRandom(11);
    int c = 5, hw = 12;
    float[] v = new float[c * hw];
    for (int ch = 0; ch < c; ch++) {
      for (int j = 0; j < hw; j++) {
        v[ch * hw + j] = (float) (3 * ch - 4 + (ch + 1) * (r.nextDouble() - 0.5));
      }
    }
    Stats s = FeatureMaps.of(Tensor.of(v, c, 3, 4)).stats();
    assertStats(directStats(v, 0, c, hw), s, 1e-12, "random map");
    assertEquals(8.0, s.scale(), 2.5, "the largest |v| is channel 4's, about 8");
    assertTrue(s.channelMeanSd() > 3, "the offsets 3 apart spread the channel means");
    // one value per channel: each channel's std is 0, the means' sd is the whole std
    Stats one = FeatureMaps.of(Tensor.of(new float[] {1, 3}, 2, 1, 1)).stats();
    assertStats(new double[] {3, 2, 1, 1, 0}, one, 1e-15, "two single values");
  }

  /** A fresh reference CNN's feature maps of 3 blob images, next to their direct computation. */
  private static void assertMatchesDirectForward(ReferenceCnn model) {
    Dataset blobs = RobustnessTest.images(3);
    Tensor x = FeatureMaps.testImages(blobs, MnistLike.MNIST, new int[] {0, 1, 2});
    // the images are normalized exactly as the evaluation's loader normalizes them
    assertArrayEquals(
        RobustnessTest.shiftedBatch(blobs, InputShift.CLEAN).data(), x.data(), "normalized input");
    model.train();
    List<Example> examples = FeatureMaps.capture(model, x);
    assertTrue(model.isTraining(), "the model's mode is put back");
    assertEquals(3, examples.size());

    model.eval();
    Module conv1 = model.namedChildren().get("conv1");
    Module norm1 = model.namedChildren().get("norm1");
    float[] in;
    float[] out;
    float[] logits;
    try (var g = GradMode.noGrad()) {
      Tensor c1 = conv1.forward(x);
      in = c1.data().clone();
      out = norm1.forward(c1).data().clone();
      logits = model.forward(x).data();
    }
    int c = 32, hw = 26 * 26;
    for (int i = 0; i < 3; i++) {
      FeatureMaps.Layer layer1 = examples.get(i).layers().get(0);
      assertEquals("norm1", layer1.name());
      assertEquals("norm2", examples.get(i).layers().get(1).name());
      assertStats(directStats(in, i * c * hw, c, hw), layer1.input().stats(), 1e-9, "conv1");
      assertStats(directStats(out, i * c * hw, c, hw), layer1.output().stats(), 1e-9, "norm1");
      // a pixel of channel 9's tile: (3, 5) of its map
      double scale = layer1.output().stats().scale();
      assertEquals(
          FeatureMaps.grey(out[i * c * hw + 9 * hw + 3 * 26 + 5], scale),
          layer1.output().grid().grey(27 + 5, 27 + 3));
      int best = 0;
      for (int k = 1; k < 10; k++) {
        best = logits[i * 10 + k] > logits[i * 10 + best] ? k : best;
      }
      assertEquals(best, examples.get(i).predicted(), "example " + i);
    }
  }

  @Test
  void instanceNormTakesEveryChannelMeanToItsBias() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.INSTANCE, 8, new Rng(5));
    assertMatchesDirectForward(model);
    List<Example> examples =
        FeatureMaps.capture(
            model,
            FeatureMaps.testImages(RobustnessTest.images(3), MnistLike.MNIST, new int[] {2}));
    for (FeatureMaps.Layer l : examples.get(0).layers()) {
      assertTrue(l.input().stats().channelMeanSd() > 1e-2, l.name() + " input: " + l.input());
      assertTrue(l.output().stats().channelMeanSd() < 1e-4, l.name() + " output: " + l.output());
      assertEquals(1.0, l.output().stats().channelStdMean(), 0.01, "each channel's std 1");
    }
  }

  @Test
  void layerNormKeepsTheShareOfVarianceBetweenChannelsAndInstanceNormRemovesIt() {
    Dataset blobs = RobustnessTest.images(3);
    for (ReferenceCnn.Norm norm : List.of(ReferenceCnn.Norm.LAYER, ReferenceCnn.Norm.INSTANCE)) {
      ReferenceCnn model = new ReferenceCnn(norm, 8, new Rng(5));
      List<Example> examples =
          FeatureMaps.capture(
              model, FeatureMaps.testImages(blobs, MnistLike.MNIST, new int[] {0, 1, 2}));
      for (Example e : examples) {
        for (FeatureMaps.Layer l : e.layers()) {
          double in = l.input().stats().betweenChannelShare();
          double out = l.output().stats().betweenChannelShare();
          assertTrue(in > 1e-3 && in < 1, norm + " " + l.name() + " input share " + in);
          if (norm == ReferenceCnn.Norm.LAYER) {
            // weight 1, bias 0: one shift and one scale of the whole map, the share unchanged
            assertEquals(in, out, 1e-5 * in, "layer " + l.name());
          } else {
            assertTrue(out < 1e-8, "instance " + l.name() + " output share " + out);
          }
        }
      }
    }
    Stats flat = new Stats(0, 2, 0, 0, 0);
    assertEquals(0, flat.betweenChannelShare(), "a constant map has no variance to share");
  }

  @Test
  void freshBatchNormInEvalModeKeepsTheChannelMeansApart() {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(5));
    assertMatchesDirectForward(model);
    List<Example> examples =
        FeatureMaps.capture(
            model,
            FeatureMaps.testImages(RobustnessTest.images(3), MnistLike.MNIST, new int[] {2}));
    // running mean 0, variance 1: y = x / sqrt(1 + eps)
    double factor = 1 / Math.sqrt(1 + 1e-5);
    for (FeatureMaps.Layer l : examples.get(0).layers()) {
      double in = l.input().stats().channelMeanSd();
      assertTrue(in > 1e-2, l.name() + " input: " + l.input());
      assertEquals(in * factor, l.output().stats().channelMeanSd(), 1e-6 * in, l.name());
      assertFalse(in == l.output().stats().channelMeanSd(), "the eps factor is there");
    }
  }

  @Test
  void anImagesMapsDoNotDependOnItsBatch() {
    // 70 images take two forwards (64 + 6); image 66 alone takes one
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.INSTANCE, 8, new Rng(5));
    Dataset blobs = RobustnessTest.images(70);
    int[] all = new int[70];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    List<Example> many =
        FeatureMaps.capture(model, FeatureMaps.testImages(blobs, MnistLike.MNIST, all));
    Example alone =
        FeatureMaps.capture(model, FeatureMaps.testImages(blobs, MnistLike.MNIST, new int[] {66}))
            .get(0);
    assertEquals(70, many.size());
    Example same = many.get(66);
    assertEquals(alone.predicted(), same.predicted());
    for (int k = 0; k < 2; k++) {
      Stats a = alone.layers().get(k).output().stats();
      Stats b = same.layers().get(k).output().stats();
      assertEquals(a.std(), b.std(), 1e-5);
      assertEquals(a.scale(), b.scale(), 1e-4 * a.scale());
    }
  }

  @Test
  void refusesWhatIsNotAMapOrATestImage() {
    assertThrows(IllegalArgumentException.class, () -> FeatureMaps.of(Tensor.zeros(2, 3)));
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.NONE, 8, new Rng(5));
    assertThrows(
        IllegalArgumentException.class, () -> FeatureMaps.capture(model, Tensor.zeros(1, 28, 28)));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> FeatureMaps.testImages(RobustnessTest.images(3), MnistLike.MNIST, new int[] {3}));
    assertEquals("no test image 3 in blobs (it has 3)", e.getMessage());
  }
}
