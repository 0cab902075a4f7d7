package dev.normlab.train;

import dev.normlab.autograd.GradMode;
import dev.normlab.data.Dataset;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transform;
import dev.normlab.data.Transforms;
import dev.normlab.kernels.BufferScope;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each norm of the {@link ReferenceCnn} does to one image's activations: for each example and
 * each of the two norm layers, the map the norm sees (the convolution's output, {@code conv1} /
 * {@code conv2}) and the map it gives (what the ReLU sees, {@code norm1} / {@code norm2}), each as
 * a grid image of its channels and a few statistics.
 *
 * <p>A grid has the channels as tiles of H x W pixels, {@value #TILES_PER_ROW} to a row (32
 * channels make 8 x 4 tiles, 64 make 8 x 8), with a 1-pixel line of grey {@value #SEPARATOR_GREY}
 * between tiles and no outer border: {@code 8W + 7} pixels wide and {@code rows·H + rows - 1} high.
 * Values map to grey with one symmetric scale per map, {@code s = max|v|} over all its channels:
 * {@code grey = round(127.5 + 127.5 v / s)}, so zero is mid grey (128), {@code +s} white and {@code
 * -s} black; an all-zero map is all mid grey.
 */
public final class FeatureMaps {
  private FeatureMaps() {}

  /** Tiles (channels) per row of a grid. */
  public static final int TILES_PER_ROW = 8;

  /**
   * The grey of the lines between tiles (and of unused tiles in a grid's last row): black. The
   * symmetric scale gives black only to a map's most negative value ({@code -s}) and puts most
   * values near mid grey, so the lines stand out.
   */
  public static final int SEPARATOR_GREY = 0;

  /** The grey of zero, and of every value of an all-zero map. */
  public static final int ZERO_GREY = 128;

  /** Images per forward: the activations held at once stay small however many examples. */
  static final int IMAGES_PER_FORWARD = 64;

  /** Each norm layer's probe points: its input (the convolution's output) and its output. */
  private static final String[][] LAYER_POINTS = {{"conv1", "norm1"}, {"conv2", "norm2"}};

  /** A grid image: 8-bit grey pixels in row-major order. */
  public record Grid(int width, int height, byte[] pixels) {
    /** The grey (0..255) at column {@code x}, row {@code y}. */
    public int grey(int x, int y) {
      return pixels[y * width + x] & 0xff;
    }
  }

  /**
   * Statistics of one map (C x H x W), computed in double.
   *
   * @param scale max |v|, the grid's grey scale
   * @param mean the mean over all values
   * @param std the (biased) standard deviation over all values
   * @param channelMeanSd the (biased) standard deviation over the channels of each channel's mean:
   *     how far apart the channels' means are (about 0 after Instance Norm with bias 0)
   * @param channelStdMean the mean over the channels of each channel's (biased) standard deviation
   */
  public record Stats(
      double scale, double mean, double std, double channelMeanSd, double channelStdMean) {
    /**
     * The share of the map's variance that lies between its channels' means ({@code channelMeanSd²
     * / std²}, 0 for a constant map), whatever the map's scale: a norm that removes each channel's
     * mean per image (Instance Norm) takes it to about 0, one that shifts and scales the whole map
     * (Layer Norm) leaves it as it was.
     */
    public double betweenChannelShare() {
      return std > 0 ? channelMeanSd * channelMeanSd / (std * std) : 0;
    }
  }

  /** One map of one example: its grid image and its statistics. */
  public record FeatureMap(Grid grid, Stats stats) {}

  /**
   * One norm layer of one example.
   *
   * @param name {@code norm1} or {@code norm2}
   * @param input the norm's input: the convolution's output
   * @param output the norm's output, before the ReLU
   */
  public record Layer(String name, FeatureMap input, FeatureMap output) {}

  /**
   * One example.
   *
   * @param predicted the model's class for it, from the logits of the same forward
   * @param layers norm1, then norm2
   */
  public record Example(int predicted, List<Layer> layers) {}

  /**
   * The feature maps of each image of {@code images}, an (N, 1, 28, 28) batch normalized as the
   * model trained on it (see {@link #testImages}), in the order of the batch. The model runs in
   * eval mode without gradients (its mode is put back afterwards), {@value #IMAGES_PER_FORWARD}
   * images per forward; the batch does not change what an image's maps are.
   */
  public static List<Example> capture(ReferenceCnn model, Tensor images) {
    if (images.dim() != 4 || images.size(0) < 1) {
      throw new IllegalArgumentException(
          "feature maps need a batch of images (N, 1, 28, 28), got shape "
              + Arrays.toString(images.shape()));
    }
    int n = images.size(0);
    int perImage = images.numel() / n;
    boolean wasTraining = model.isTraining();
    List<Example> out = new ArrayList<>(n);
    model.eval();
    try (var noGrad = GradMode.noGrad()) {
      for (int start = 0; start < n; start += IMAGES_PER_FORWARD) {
        int count = Math.min(IMAGES_PER_FORWARD, n - start);
        Tensor part =
            count == n
                ? images
                : Tensor.of(
                    Arrays.copyOfRange(images.data(), start * perImage, (start + count) * perImage),
                    count,
                    images.size(1),
                    images.size(2),
                    images.size(3));
        out.addAll(captureOneForward(model, part));
      }
    } finally {
      model.train(wasTraining);
    }
    return out;
  }

  private static List<Example> captureOneForward(ReferenceCnn model, Tensor images) {
    int n = images.size(0);
    Map<String, FeatureMap[]> byPoint = new HashMap<>();
    int[] predicted = new int[n];
    // the activations go back to the pool at the end: everything kept is made before then
    try (var buffers = BufferScope.open()) {
      Tensor logits =
          model.forward(
              images,
              (point, x, beforeRelu) -> {
                for (String[] layer : LAYER_POINTS) {
                  if (point.equals(layer[0]) || point.equals(layer[1])) {
                    byPoint.put(point, perExample(x));
                  }
                }
              });
      int classes = logits.size(1);
      float[] l = logits.data();
      for (int i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
          if (l[i * classes + k] > l[i * classes + best]) {
            best = k;
          }
        }
        predicted[i] = best;
      }
    }
    List<Example> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      List<Layer> layers = new ArrayList<>(LAYER_POINTS.length);
      for (String[] points : LAYER_POINTS) {
        layers.add(new Layer(points[1], byPoint.get(points[0])[i], byPoint.get(points[1])[i]));
      }
      out.add(new Example(predicted[i], List.copyOf(layers)));
    }
    return out;
  }

  /** The map of each example of an (N, C, H, W) batch. */
  private static FeatureMap[] perExample(Tensor x) {
    int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    FeatureMap[] out = new FeatureMap[n];
    for (int i = 0; i < n; i++) {
      out[i] = of(x.data(), i * c * h * w, c, h, w);
    }
    return out;
  }

  /** The grid image and statistics of one (C, H, W) map. */
  public static FeatureMap of(Tensor map) {
    if (map.dim() != 3) {
      throw new IllegalArgumentException(
          "a feature map is (C, H, W), got shape " + Arrays.toString(map.shape()));
    }
    return of(map.data(), 0, map.size(0), map.size(1), map.size(2));
  }

  private static FeatureMap of(float[] data, int offset, int c, int h, int w) {
    Stats stats = stats(data, offset, c, h, w);
    return new FeatureMap(grid(data, offset, c, h, w, stats.scale()), stats);
  }

  private static Stats stats(float[] data, int offset, int c, int h, int w) {
    int hw = h * w;
    double scale = 0;
    double[] channelMean = new double[c];
    double[] channelVar = new double[c];
    for (int ch = 0; ch < c; ch++) {
      int start = offset + ch * hw;
      double sum = 0;
      for (int j = start; j < start + hw; j++) {
        sum += data[j];
        scale = Math.max(scale, Math.abs((double) data[j]));
      }
      double mean = sum / hw;
      double ss = 0;
      for (int j = start; j < start + hw; j++) {
        ss += (data[j] - mean) * (data[j] - mean);
      }
      channelMean[ch] = mean;
      channelVar[ch] = ss / hw;
    }
    // every channel has as many values, so the overall variance is the channels' mean variance
    // plus the variance of their means
    double mean = average(channelMean);
    double betweenChannels = 0, withinChannels = 0, channelStdMean = 0;
    for (int ch = 0; ch < c; ch++) {
      betweenChannels += (channelMean[ch] - mean) * (channelMean[ch] - mean) / c;
      withinChannels += channelVar[ch] / c;
      channelStdMean += Math.sqrt(channelVar[ch]) / c;
    }
    return new Stats(
        scale,
        mean,
        Math.sqrt(withinChannels + betweenChannels),
        Math.sqrt(betweenChannels),
        channelStdMean);
  }

  private static double average(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  private static Grid grid(float[] data, int offset, int c, int h, int w, double scale) {
    int columns = Math.min(TILES_PER_ROW, c);
    int rows = (c + TILES_PER_ROW - 1) / TILES_PER_ROW;
    int width = columns * w + columns - 1;
    int height = rows * h + rows - 1;
    byte[] pixels = new byte[width * height];
    Arrays.fill(pixels, (byte) SEPARATOR_GREY);
    for (int ch = 0; ch < c; ch++) {
      int x0 = (ch % TILES_PER_ROW) * (w + 1);
      int y0 = (ch / TILES_PER_ROW) * (h + 1);
      int src = offset + ch * h * w;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          pixels[(y0 + y) * width + x0 + x] = (byte) grey(data[src + y * w + x], scale);
        }
      }
    }
    return new Grid(width, height, pixels);
  }

  /**
   * The grey of value {@code v} in a map of scale {@code s}: {@code round(127.5 + 127.5 v / s)}
   * within 0..255; {@value #ZERO_GREY} when {@code s} is 0.
   */
  public static int grey(double v, double s) {
    if (!(s > 0)) {
      return ZERO_GREY;
    }
    long g = Math.round(127.5 + 127.5 * v / s);
    return (int) Math.max(0, Math.min(255, g));
  }

  /**
   * Test images {@code ids} of {@code test} (raw 0..255 pixels, as loaded) normalized as training
   * and evaluation normalize them ({@link Transforms#standard}): an (N, 1, rows, cols) batch.
   */
  public static Tensor testImages(Dataset test, MnistLike which, int[] ids) {
    int size = test.imageSize();
    float[] pixels = new float[ids.length * size];
    Transform normalize = Transforms.standard(which);
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= test.size()) {
        throw new IllegalArgumentException(
            "no test image " + ids[i] + " in " + test.name() + " (it has " + test.size() + ")");
      }
      System.arraycopy(test.images(), ids[i] * size, pixels, i * size, size);
      normalize.apply(pixels, i * size, test.rows(), test.cols(), null);
    }
    return Tensor.of(pixels, ids.length, 1, test.rows(), test.cols());
  }
}
