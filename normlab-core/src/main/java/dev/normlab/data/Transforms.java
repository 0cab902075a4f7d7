package dev.normlab.data;

/** The usual image transforms, as torchvision's, for single-channel images. */
public final class Transforms {
  private Transforms() {}

  /** Does nothing. */
  public static Transform identity() {
    return (px, off, r, c, rng) -> {};
  }

  /**
   * Raw 0..255 to [0, 1] (like {@code ToTensor}): a division by 255, as PyTorch does it; a
   * multiplication by 1/255 differs in the last bit for half of the 256 values.
   */
  public static Transform toUnit() {
    return (px, off, r, c, rng) -> {
      int end = off + r * c;
      for (int i = off; i < end; i++) {
        px[i] /= 255f;
      }
    };
  }

  /** Multiplies every pixel by {@code factor}. */
  public static Transform scale(float factor) {
    return (px, off, r, c, rng) -> {
      int end = off + r * c;
      for (int i = off; i < end; i++) {
        px[i] *= factor;
      }
    };
  }

  /** {@code (x - mean) / std}, like {@code Normalize((mean,), (std,))}. */
  public static Transform normalize(double mean, double std) {
    if (!(std > 0)) {
      throw new IllegalArgumentException("std must be positive, got " + std);
    }
    float m = (float) mean;
    float s = (float) std;
    return (px, off, r, c, rng) -> {
      int end = off + r * c;
      for (int i = off; i < end; i++) {
        px[i] = (px[i] - m) / s;
      }
    };
  }

  /** {@code toUnit} then {@code normalize} with the dataset's mean and std. */
  public static Transform standard(MnistLike which) {
    return toUnit().andThen(normalize(which.mean(), which.std()));
  }

  /**
   * Pads the image with {@code padding} pixels of {@code fill} on every side and crops a random
   * window of the original size, like {@code RandomCrop(size, padding=padding)}.
   */
  public static Transform randomCrop(int padding, float fill) {
    if (padding < 0) {
      throw new IllegalArgumentException("padding must be >= 0, got " + padding);
    }
    return (px, off, r, c, rng) -> {
      if (padding == 0) {
        return;
      }
      // Top-left corner of the window within the padded image: 0 .. 2*padding.
      int top = rng.nextInt(2 * padding + 1);
      int left = rng.nextInt(2 * padding + 1);
      int dy = top - padding;
      int dx = left - padding;
      float[] src = new float[r * c];
      System.arraycopy(px, off, src, 0, r * c);
      for (int y = 0; y < r; y++) {
        int sy = y + dy;
        for (int x = 0; x < c; x++) {
          int sx = x + dx;
          px[off + y * c + x] = (sy >= 0 && sy < r && sx >= 0 && sx < c) ? src[sy * c + sx] : fill;
        }
      }
    };
  }

  /** Mirrors the image left-right with probability {@code p}, like {@code RandomHorizontalFlip}. */
  public static Transform randomHorizontalFlip(double p) {
    return (px, off, r, c, rng) -> {
      if (rng.nextDouble() < p) {
        hflip(px, off, r, c);
      }
    };
  }

  /** Mirrors an image left-right in place. */
  public static void hflip(float[] px, int off, int r, int c) {
    for (int y = 0; y < r; y++) {
      int row = off + y * c;
      for (int a = row, b = row + c - 1; a < b; a++, b--) {
        float t = px[a];
        px[a] = px[b];
        px[b] = t;
      }
    }
  }

  /** Applies the transforms in order. */
  public static Transform compose(Transform... ts) {
    Transform out = identity();
    for (Transform t : ts) {
      out = out.andThen(t);
    }
    return out;
  }
}
