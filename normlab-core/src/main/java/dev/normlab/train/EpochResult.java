package dev.normlab.train;

/**
 * One epoch's numbers.
 *
 * @param step the global step count at the end of the epoch
 * @param trainLoss mean training loss over the epoch
 * @param testAccuracy percent correct on the test set
 * @param perClassAccuracy percent correct per class
 * @param imagesPerSecond training throughput of this epoch
 * @param trainAccuracy percent of the epoch's training images that the model classified right as it
 *     trained on them (train mode, each batch before its step); NaN when unknown (an epoch resumed
 *     from a checkpoint written before normlab recorded it)
 */
public record EpochResult(
    int epoch,
    long step,
    double trainLoss,
    double testLoss,
    double testAccuracy,
    double[] perClassAccuracy,
    double imagesPerSecond,
    double epochSeconds,
    double trainAccuracy) {

  /** The same epoch with {@code acc} as its training accuracy. */
  public EpochResult withTrainAccuracy(double acc) {
    return new EpochResult(
        epoch,
        step,
        trainLoss,
        testLoss,
        testAccuracy,
        perClassAccuracy,
        imagesPerSecond,
        epochSeconds,
        acc);
  }
}
