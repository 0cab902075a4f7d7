package dev.normlab.data;

import java.io.IOException;

/** A dataset's files are in none of the searched places and could not be downloaded. */
public class DatasetNotFoundException extends IOException {
  public DatasetNotFoundException(String message) {
    super(message);
  }
}
