package dev.normlab.examples.figures;

import dev.normlab.tensor.Tensor;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Small Java2D helpers shared by the guide's figures. */
public final class Images {
  private Images() {}

  /** A white canvas with antialiasing on. */
  public static BufferedImage canvas(int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return img;
  }

  public static Graphics2D graphics(BufferedImage img) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    return g;
  }

  /** Writes a PNG, creating the parent directories. */
  public static Path writePng(BufferedImage img, Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (!ImageIO.write(img, "png", file.toFile())) {
        throw new IOException("no PNG writer");
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** An RGB image from a (3, H, W) tensor in [0, 1] (values outside are clamped). */
  public static BufferedImage fromChw(Tensor chw) {
    int h = chw.size(1);
    int w = chw.size(2);
    float[] d = chw.contiguous().data();
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = byteOf(d[y * w + x]);
        int gr = byteOf(d[h * w + y * w + x]);
        int b = byteOf(d[2 * h * w + y * w + x]);
        img.setRGB(x, y, (r << 16) | (gr << 8) | b);
      }
    }
    return img;
  }

  private static int byteOf(float v) {
    return Math.round(Math.max(0f, Math.min(1f, v)) * 255f);
  }

  /** A grey image from 0..255 bytes, scaled up by an integer factor. */
  public static BufferedImage grey(byte[] pixels, int rows, int cols, int scale) {
    BufferedImage img = new BufferedImage(cols * scale, rows * scale, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < rows * scale; y++) {
      for (int x = 0; x < cols * scale; x++) {
        int v = pixels[(y / scale) * cols + x / scale] & 0xff;
        img.setRGB(x, y, (v << 16) | (v << 8) | v);
      }
    }
    return img;
  }

  /** The categorical palette of the figures (one colour per norm). */
  public static Color color(int i) {
    Color[] palette = {
      new Color(0x4C72B0),
      new Color(0xDD8452),
      new Color(0x55A868),
      new Color(0xC44E52),
      new Color(0x8172B3),
      new Color(0x937860),
      new Color(0xDA8BC3)
    };
    return palette[Math.floorMod(i, palette.length)];
  }
}
