package dev.normlab.tensor;

/**
 * Element types. All storage is {@code float[]}; {@link #INT64} marks tensors of whole numbers
 * (class labels, counters such as {@code num_batches_tracked}) that are saved as 64-bit integers
 * and are exact up to 2^24.
 */
public enum DType {
  FLOAT32("F32", 4),
  INT64("I64", 8);

  private final String safetensorsName;
  private final int bytes;

  DType(String safetensorsName, int bytes) {
    this.safetensorsName = safetensorsName;
    this.bytes = bytes;
  }

  /** The dtype's name in the safetensors header, e.g. {@code F32}. */
  public String safetensorsName() {
    return safetensorsName;
  }

  /** Bytes per element when serialized. */
  public int bytes() {
    return bytes;
  }

  @Override
  public String toString() {
    return this == FLOAT32 ? "torch.float32" : "torch.int64";
  }
}
