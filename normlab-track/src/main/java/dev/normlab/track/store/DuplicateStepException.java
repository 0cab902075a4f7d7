package dev.normlab.track.store;

/** A metric was logged twice for the same (run, key, step): an error, never a silent drop. */
public final class DuplicateStepException extends IllegalArgumentException {
  private final String runId;
  private final String key;
  private final long step;

  public DuplicateStepException(String runId, String key, long step) {
    super("run " + runId + ": metric '" + key + "' already has a value at step " + step);
    this.runId = runId;
    this.key = key;
    this.step = step;
  }

  public String runId() {
    return runId;
  }

  public String key() {
    return key;
  }

  public long step() {
    return step;
  }
}
