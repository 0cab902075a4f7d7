package dev.normlab.train;

/**
 * The final model's predictions on the test set: for example i, its index in the dataset, its 28x28
 * grey image (0..255), the true and predicted class, and all class probabilities.
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
}
