package dev.normlab.io;

import java.io.IOException;

/** A safetensors file is malformed; the message names the file and the problem. */
public class SafeTensorsException extends IOException {
  public SafeTensorsException(String message) {
    super(message);
  }

  public SafeTensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}
