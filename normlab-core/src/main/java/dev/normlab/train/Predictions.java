package dev.normlab.train;

import dev.normlab.data.Dataset;
import java.util.ArrayList;
import java.util.List;

/**
 * The final model's predictions on the test set: for example i, its index in the dataset, its grey
 * image (rows x cols, 0..255), the true and predicted class, and all class probabilities.
 */
public record Predictions(
    int[] exampleIds,
    byte[][] images,
    int rows,
    int cols,
    int[] labels,
    int[] predicted,
    float[][] probabilities,
    String[] classNames) {
  public int size() {
    return exampleIds.length;
  }

  /** The probability of the predicted class. */
  public float confidence(int i) {
    return probabilities[i][predicted[i]];
  }

  /** Collects predictions batch by batch. */
  public static final class Builder {
    private final Dataset dataset;
    private final String[] classNames;
    private final List<int[]> ids = new ArrayList<>();
    private final List<float[]> probs = new ArrayList<>();
    private final List<float[]> labels = new ArrayList<>();

    public Builder(Dataset dataset, String[] classNames) {
      this.dataset = dataset;
      this.classNames = classNames;
    }

    /** Adds one batch: dataset indices, softmax probabilities [B, C] flat, labels [B]. */
    public void add(int[] indices, float[] probabilities, float[] batchLabels) {
      ids.add(indices.clone());
      probs.add(probabilities.clone());
      labels.add(batchLabels.clone());
    }

    public Predictions build() {
      int n = ids.stream().mapToInt(a -> a.length).sum();
      int c = classNames.length;
      int px = dataset.rows() * dataset.cols();
      int[] outIds = new int[n];
      byte[][] images = new byte[n][];
      int[] lab = new int[n];
      int[] pred = new int[n];
      float[][] p = new float[n][];
      int k = 0;
      float scale = dataset.scaled() ? 255f : 1f;
      for (int b = 0; b < ids.size(); b++) {
        int[] bi = ids.get(b);
        float[] bp = probs.get(b);
        float[] bl = labels.get(b);
        for (int i = 0; i < bi.length; i++, k++) {
          outIds[k] = bi[i];
          byte[] img = new byte[px];
          for (int j = 0; j < px; j++) {
            img[j] =
                (byte)
                    Math.round(
                        Math.min(255f, Math.max(0f, dataset.images()[bi[i] * px + j] * scale)));
          }
          images[k] = img;
          lab[k] = (int) bl[i];
          float[] row = java.util.Arrays.copyOfRange(bp, i * c, (i + 1) * c);
          p[k] = row;
          int best = 0;
          for (int j = 1; j < c; j++) {
            if (row[j] > row[best]) {
              best = j;
            }
          }
          pred[k] = best;
        }
      }
      return new Predictions(
          outIds, images, dataset.rows(), dataset.cols(), lab, pred, p, classNames);
    }
  }
}
