package dev.normlab.data;

import java.io.IOException;

/**
 * An IDX file (or a dataset made of IDX files) is malformed: wrong magic number, truncated data,
 * trailing bytes, a corrupt gzip stream or a checksum mismatch. The message names the file and the
 * problem.
 */
public class IdxFormatException extends IOException {
  public IdxFormatException(String message) {
    super(message);
  }

  public IdxFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
