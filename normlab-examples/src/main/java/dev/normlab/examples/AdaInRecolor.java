package dev.normlab.examples;

import dev.normlab.examples.figures.Images;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * AdaIN recoloring: a generated gradient image takes on the per-channel colour statistics (mean and
 * standard deviation of R, G and B) of a generated "sunset" style image, with {@link
 * Normalization#adaptiveInstanceNorm}. Writes the three images side by side to a PNG.
 */
public final class AdaInRecolor {
  private AdaInRecolor() {}

  public static final int HEIGHT = 96;
  public static final int WIDTH = 128;

  /** The content, style and recolored images, each (1, 3, H, W). */
  public record Result(Tensor content, Tensor style, Tensor recolored) {}

  public static Result run() {
    Tensor content = gradient(HEIGHT, WIDTH);
    Tensor style = sunset(HEIGHT, WIDTH, new Rng(0));
    // doc:adain begin
    // content and style: (N, C, H, W) = (1, 3, H, W), RGB in [0, 1]; the sizes may differ.
    Tensor recolored = Normalization.adaptiveInstanceNorm(content, style);
    // Each channel of `recolored` now has the style's mean and (biased) standard deviation:
    //   recolored = (content - mean_c) / std_c * std_s + mean_s, per sample and channel.
    // doc:adain end
    return new Result(content, style, recolored);
  }

  /** A smooth gradient: red grows left to right, green top to bottom, blue is the opposite. */
  static Tensor gradient(int h, int w) {
    float[] d = new float[3 * h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float u = x / (w - 1f);
        float v = y / (h - 1f);
        d[y * w + x] = u;
        d[h * w + y * w + x] = v;
        d[2 * h * w + y * w + x] = 1f - 0.5f * (u + v);
      }
    }
    return Tensor.of(d, 1, 3, h, w);
  }

  /** Warm horizontal bands (orange, pink, purple) with a little noise: the colour statistics. */
  static Tensor sunset(int h, int w, Rng rng) {
    float[][] bands = {
      {0.99f, 0.75f, 0.35f}, {0.97f, 0.52f, 0.32f}, {0.85f, 0.35f, 0.45f}, {0.45f, 0.22f, 0.45f}
    };
    float[] noise = Tensor.randn(rng, 3, h, w).mul(0.04f).toArray();
    float[] d = new float[3 * h * w];
    for (int y = 0; y < h; y++) {
      float[] col = bands[Math.min(bands.length - 1, y * bands.length / h)];
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          int i = c * h * w + y * w + x;
          d[i] = Math.max(0f, Math.min(1f, col[c] + noise[i]));
        }
      }
    }
    return Tensor.of(d, 1, 3, h, w);
  }

  /** Content, style and result side by side, with labels. */
  public static BufferedImage figure(Result r) {
    int scale = 2;
    int pad = 16;
    int top = 28;
    int w = WIDTH * scale;
    int h = HEIGHT * scale;
    BufferedImage img = Images.canvas(3 * w + 4 * pad, h + top + pad);
    Graphics2D g = Images.graphics(img);
    String[] titles = {"content (gradient)", "style (colour statistics)", "AdaIN(content, style)"};
    Tensor[] panels = {r.content(), r.style(), r.recolored()};
    for (int i = 0; i < 3; i++) {
      int x = pad + i * (w + pad);
      g.drawImage(Images.fromChw(panels[i].select(0, 0)), x, top, w, h, null);
      g.setColor(Color.DARK_GRAY);
      g.drawString(titles[i], x, top - 8);
    }
    g.dispose();
    return img;
  }

  /** Writes the figure (default {@code docs/img/adain.png}). */
  public static void main(String[] args) {
    Path out = Path.of(args.length > 0 ? args[0] : "docs/img/adain.png");
    Images.writePng(figure(run()), out);
    System.out.println("wrote " + out);
  }
}
