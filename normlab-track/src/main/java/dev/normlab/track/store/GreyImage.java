package dev.normlab.track.store;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** A grey image, 0..255 per pixel in row-major order, stored as PNG. */
public record GreyImage(int width, int height, byte[] pixels) {
  static {
    ImageIO.setUseCache(false); // encode in memory, no temp files
  }

  public GreyImage {
    if (width <= 0 || height <= 0 || pixels.length != width * height) {
      throw new IllegalArgumentException(
          "image of "
              + width
              + "x"
              + height
              + " needs "
              + width * height
              + " pixels, got "
              + pixels.length);
    }
  }

  /** The image as a PNG file (8-bit grey). */
  public byte[] png() {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, width, height, pixels);
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("no PNG writer in this JDK");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
