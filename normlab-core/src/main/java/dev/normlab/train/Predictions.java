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

  /**
   * Collects predictions batch by batch, with each example's image either from the dataset (as
   * stored) or from the model's input (what it saw: a shifted test image, say).
   */
  public static final class Builder {
    private final Dataset dataset;
    private final String[] classNames;
    private final List<int[]> ids = new ArrayList<>();
    private final List<float[]> probs = new ArrayList<>();
    private final List<float[]> labels = new ArrayList<>();
    // from the inputs: the normalization to undo, and each example's image as it comes
    private final boolean fromInputs;
    private final float inputMean;
    private final float inputStd;
    private final List<byte[]> inputImages = new ArrayList<>();

    /** The images are the dataset's own (by example index). */
    public Builder(Dataset dataset, String[] classNames) {
      this(dataset, classNames, false, 0f, 1f);
    }

    private Builder(
        Dataset dataset, String[] classNames, boolean fromInputs, float inputMean, float inputStd) {
      this.dataset = dataset;
      this.classNames = classNames;
      this.fromInputs = fromInputs;
      this.inputMean = inputMean;
      this.inputStd = inputStd;
    }

    /**
     * The images are the model's inputs, normalized as {@code (x - mean) / std} from pixels x in
     * [0, 1]: each is turned back into 0..255 grey.
     */
    public static Builder ofInputs(Dataset dataset, String[] classNames, float mean, float std) {
      if (!(std > 0) || !Float.isFinite(mean)) {
        throw new IllegalArgumentException(
            "need a finite mean and a positive std, got " + mean + ", " + std);
      }
      return new Builder(dataset, classNames, true, mean, std);
    }

    /**
     * Adds one batch: dataset indices, softmax probabilities [B, C] flat, labels [B], and the
     * model's input images [B, ...] flat (used when the images are the inputs).
     */
    public void add(int[] indices, float[] probabilities, float[] batchLabels, float[] inputs) {
      ids.add(indices.clone());
      probs.add(probabilities.clone());
      labels.add(batchLabels.clone());
      if (fromInputs) {
        int px = dataset.rows() * dataset.cols();
        if (inputs.length != indices.length * px) {
          throw new IllegalArgumentException(
              "expected "
                  + indices.length
                  + " images of "
                  + px
                  + " pixels, got "
                  + inputs.length
                  + " values");
        }
        for (int i = 0; i < indices.length; i++) {
          byte[] grey = new byte[px];
          for (int j = 0; j < px; j++) {
            grey[j] = toGrey((inputs[i * px + j] * inputStd + inputMean) * 255f);
          }
          inputImages.add(grey);
        }
      }
    }

    private static byte toGrey(float v) {
      return (byte) Math.round(Math.min(255f, Math.max(0f, v)));
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
          byte[] img;
          if (fromInputs) {
            img = inputImages.get(k);
          } else {
            img = new byte[px];
            for (int j = 0; j < px; j++) {
              img[j] = toGrey(dataset.images()[bi[i] * px + j] * scale);
            }
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
