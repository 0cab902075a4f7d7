package dev.normlab.data;

import java.util.List;

/**
 * An in-memory image classification dataset: {@code n} images of {@code rows x cols} pixels stored
 * image after image in {@code images} (raw 0..255 unless {@link #scaled} says otherwise) and their
 * labels.
 */
public record Dataset(
    String name,
    float[] images,
    int[] labels,
    int rows,
    int cols,
    List<String> classes,
    boolean scaled) {

  public Dataset {
    if (rows <= 0 || cols <= 0) {
      throw new IllegalArgumentException("rows and cols must be positive");
    }
    if ((long) labels.length * rows * cols != images.length) {
      throw new IllegalArgumentException(
          name
              + ": "
              + images.length
              + " pixels is not "
              + labels.length
              + " images of "
              + rows
              + "x"
              + cols);
    }
    classes = List.copyOf(classes);
  }

  /** Number of examples. */
  public int size() {
    return labels.length;
  }

  /** Number of pixels per image. */
  public int imageSize() {
    return rows * cols;
  }

  public int numClasses() {
    return classes.size();
  }

  /** The first {@code n} examples (copied), e.g. for quick runs. */
  public Dataset head(int n) {
    int m = Math.min(n, size());
    float[] im = java.util.Arrays.copyOf(images, m * imageSize());
    int[] lb = java.util.Arrays.copyOf(labels, m);
    return new Dataset(name, im, lb, rows, cols, classes, scaled);
  }

  /** A copy with every pixel divided by 255 (a no-op copy if already scaled). */
  public Dataset scaledToUnit() {
    if (scaled) {
      return this;
    }
    float[] im = new float[images.length];
    for (int i = 0; i < im.length; i++) {
      im[i] = images[i] / 255f;
    }
    return new Dataset(name, im, labels, rows, cols, classes, true);
  }

  @Override
  public String toString() {
    return "Dataset[" + name + ", " + size() + " images " + rows + "x" + cols + "]";
  }
}
