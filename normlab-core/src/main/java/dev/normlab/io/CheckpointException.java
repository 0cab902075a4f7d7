package dev.normlab.io;

import java.io.IOException;

/**
 * A checkpoint cannot be used: damaged (bad format, checksum mismatch), not a normlab checkpoint,
 * or not matching the model or optimizer it is loaded into. The message names the file.
 */
public class CheckpointException extends IOException {
  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
