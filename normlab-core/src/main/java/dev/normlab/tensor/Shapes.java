package dev.normlab.tensor;

import java.util.Arrays;

/** Shape arithmetic and the error messages that name expected and actual shapes. */
public final class Shapes {
  private Shapes() {}

  public static int numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + str(shape));
      }
      n *= d;
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
    }
    return (int) n;
  }

  /** Row-major strides of a contiguous tensor of this shape. */
  public static int[] strides(int[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= shape[i];
    }
    return s;
  }

  /** PyTorch's shape string, e.g. {@code [4, 3, 1]}. */
  public static String str(int[] shape) {
    return Arrays.toString(shape);
  }

  /**
   * Wraps a possibly negative dim into {@code [0, rank)}, with PyTorch's message when out of range.
   */
  public static int dim(int dim, int rank) {
    int r = Math.max(rank, 1);
    if (dim < -r || dim >= r) {
      throw new IndexOutOfBoundsException(
          "Dimension out of range (expected to be in range of ["
              + (-r)
              + ", "
              + (r - 1)
              + "], but got "
              + dim
              + ")");
    }
    return dim < 0 ? dim + r : dim;
  }

  /** The broadcast shape of two shapes (NumPy/PyTorch rules). */
  public static int[] broadcast(int[] a, int[] b) {
    int rank = Math.max(a.length, b.length);
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
      int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw new IllegalArgumentException(
            "The size of tensor a ("
                + da
                + ") must match the size of tensor b ("
                + db
                + ") at non-singleton dimension "
                + i
                + " (shapes "
                + str(a)
                + " and "
                + str(b)
                + ")");
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /**
   * Strides for reading a tensor of shape {@code in} as if it had the broadcast shape {@code out}:
   * 0 along broadcast dimensions.
   */
  public static int[] broadcastStrides(int[] in, int[] out) {
    int[] s = new int[out.length];
    int[] inStrides = strides(in);
    int off = out.length - in.length;
    for (int i = 0; i < out.length; i++) {
      int j = i - off;
      s[i] = j < 0 || in[j] == 1 ? 0 : inStrides[j];
    }
    return s;
  }

  /** Throws with expected and actual shape when they differ. */
  public static void check(String what, int[] expected, int[] actual) {
    if (!Arrays.equals(expected, actual)) {
      throw new IllegalArgumentException(
          what + ": expected shape " + str(expected) + " but got " + str(actual));
    }
  }

  /** Resolves one {@code -1} in a requested shape against a number of elements. */
  public static int[] infer(int[] requested, int numel) {
    int[] s = requested.clone();
    int unknown = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1) {
        if (unknown >= 0) {
          throw new IllegalArgumentException("only one dimension can be inferred");
        }
        unknown = i;
      } else if (s[i] < 0) {
        throw new IllegalArgumentException("invalid shape dimension " + s[i]);
      } else {
        known *= s[i];
      }
    }
    if (unknown >= 0) {
      if (known == 0 || numel % known != 0) {
        throw new IllegalArgumentException(
            "shape '" + str(requested) + "' is invalid for input of size " + numel);
      }
      s[unknown] = (int) (numel / known);
    } else if (known != numel) {
      throw new IllegalArgumentException(
          "shape '" + str(requested) + "' is invalid for input of size " + numel);
    }
    return s;
  }
}
