package dev.normlab.train;

import java.nio.file.Path;
import java.util.List;

/** What a finished run produced. */
public record TrainResult(
    TrainConfig config,
    List<EpochResult> epochs,
    double trainSeconds,
    Path checkpointDir,
    Path bestCheckpoint) {
  public EpochResult last() {
    return epochs.get(epochs.size() - 1);
  }
}
