package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.examples.figures.NormAxesFigure;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NormAxesFigureTest {
  @Test
  void writesAPngOfTheExpectedSizeWithOneShadedSetPerPanel(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("img").resolve("norm-axes.png");
    NormAxesFigure.main(new String[] {png.toString()});
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(NormAxesFigure.WIDTH, img.getWidth());
    assertEquals(NormAxesFigure.HEIGHT, img.getHeight());
    int[] shaded = new int[4];
    for (int p = 0; p < 4; p++) {
      for (int x = p * NormAxesFigure.PANEL_WIDTH; x < (p + 1) * NormAxesFigure.PANEL_WIDTH; x++) {
        for (int y = 0; y < img.getHeight(); y++) {
          int rgb = img.getRGB(x, y);
          int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
          if (b > 120 && b > r + 60 && b > g + 20) {
            shaded[p]++;
          }
        }
      }
    }
    int bn = shaded[0], ln = shaded[1], in = shaded[2], gn = shaded[3];
    assertTrue(in > 0, "instance norm shades one (n, c) slab");
    assertTrue(in < gn && gn < ln, "IN < GN < LN: " + java.util.Arrays.toString(shaded));
    assertTrue(in < bn && bn < ln, "IN < BN < LN: " + java.util.Arrays.toString(shaded));
  }
}
