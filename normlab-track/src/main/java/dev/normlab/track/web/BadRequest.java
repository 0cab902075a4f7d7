package dev.normlab.track.web;

/** A request the dashboard refuses; its message goes back to the client as a JSON error. */
public final class BadRequest extends RuntimeException {
  private final int status;

  public BadRequest(String message) {
    this(400, message);
  }

  public BadRequest(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
