package dev.normlab.track.store;

import java.nio.file.Path;

/** A run store could not be opened, read or written; the message names the store file. */
public class StoreException extends RuntimeException {
  private final Path file;

  public StoreException(Path file, String message, Throwable cause) {
    super("run store " + file + ": " + message, cause);
    this.file = file;
  }

  public StoreException(Path file, String message) {
    this(file, message, null);
  }

  /** The store file concerned. */
  public Path file() {
    return file;
  }
}
