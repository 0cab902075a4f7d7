package dev.normlab.train;

/**
 * One epoch's numbers.
 *
 * @param step the global step count at the end of the epoch
 * @param trainLoss mean training loss over the epoch
 * @param testAccuracy percent correct on the test set
 * @param perClassAccuracy percent correct per class
 * @param imagesPerSecond training throughput of this epoch
 */
public record EpochResult(
    int epoch,
    long step,
    double trainLoss,
    double testLoss,
    double testAccuracy,
    double[] perClassAccuracy,
    double imagesPerSecond,
    double epochSeconds) {}
