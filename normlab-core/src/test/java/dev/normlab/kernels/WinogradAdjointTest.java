package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@code Winograd.inputAdjoint} against a scalar twin of its exact arithmetic: per tile dd = B dV
 * B^T with the kernel's operation order, each padded row the tile's row plus the row the tile above
 * left there (row 0 and 1 over rows 2 and 3), each padded column the tile's even or odd column plus
 * the left neighbour's, then the padding cropped. Bit for bit, so a faster adjoint that adds in
 * another order fails here (its gradients would change the accuracy tables). The scratch past the
 * last tile holds NaN, which must not reach the result.
 */
class WinogradAdjointTest {
  private static final int L = FloatVector.SPECIES_PREFERRED.length();

  @Test
  void matchesTheScalarTwinBitwise() {
    SplittableRandom r = new SplittableRandom(11);
    // th, tw, padding: conv2's 12 x 12 tiles (rows of 8 + 4 lanes), whole vectors, one tile, odd
    int[][] cases = {
      {12, 12, 0}, {12, 12, 1}, {4, 8, 0}, {3, 16, 1}, {1, 1, 0}, {5, 7, 1}, {2, 9, 0}
    };
    for (int[] c : cases) {
      check(r, c[0], c[1], c[2]);
    }
  }

  private static void check(SplittableRandom r, int th, int tw, int p) {
    int ih = 2 * th + 2 - 2 * p, iw = 2 * tw + 2 - 2 * p; // the input plane the tiles cover
    int at = 3, kStride = th * tw + 2 * L + 1;
    float[] dv = new float[16 * kStride + at + L];
    Arrays.fill(dv, Float.NaN);
    for (int k = 0; k < 16; k++) {
      for (int t = 0; t < th * tw; t++) {
        dv[k * kStride + at + t] = (float) r.nextGaussian();
      }
    }
    int go = 2;
    float[] gx = new float[go + ih * iw + 3];
    float[] rows = new float[Winograd.rowsSize(th, tw)];
    Arrays.fill(rows, Float.NaN); // stale scratch
    Winograd.inputAdjoint(dv, at, kStride, th, tw, gx, go, ih, iw, p, rows);
    for (int y = 0; y < ih; y++) {
      for (int x = 0; x < iw; x++) {
        float want = padded(dv, at, kStride, th, tw, y + p, x + p);
        assertEquals(
            Float.floatToRawIntBits(want),
            Float.floatToRawIntBits(gx[go + y * iw + x]),
            "th="
                + th
                + " tw="
                + tw
                + " p="
                + p
                + " at ("
                + y
                + ", "
                + x
                + "): "
                + want
                + " vs "
                + gx[go + y * iw + x]);
      }
    }
  }

  /** The padded plane at (row, col): even columns dd0 + the left tile's dd2, odd dd1 + dd3. */
  private static float padded(float[] dv, int at, int ks, int th, int tw, int row, int col) {
    int tx = col / 2, j = col % 2; // j: dd0 (even) or dd1 (odd) of tile tx
    float own = tx < tw ? rowSum(dv, at, ks, th, tw, row, tx, j) : 0f;
    float left = tx >= 1 ? rowSum(dv, at, ks, th, tw, row, tx - 1, j + 2) : 0f;
    return own + left;
  }

  /**
   * Padded row {@code row}'s column dd_j of tile column tx: the tile's row plus the one above's.
   */
  private static float rowSum(float[] dv, int at, int ks, int th, int tw, int row, int tx, int j) {
    int ty = row / 2, h = row % 2;
    if (ty == th) { // below the last tile row: rows 2 and 3 of the last tile alone
      return dd(dv, at, ks, tw, ty - 1, tx, h + 2, j);
    }
    float above = ty >= 1 ? dd(dv, at, ks, tw, ty - 1, tx, h + 2, j) : 0f;
    return dd(dv, at, ks, tw, ty, tx, h, j) + above;
  }

  /** Element (i, j) of B dV B^T for tile (ty, tx), in the kernel's operation order. */
  private static float dd(float[] dv, int at, int ks, int tw, int ty, int tx, int i, int j) {
    float[][] m = new float[4][4];
    for (int a = 0; a < 4; a++) {
      for (int b = 0; b < 4; b++) {
        m[a][b] = dv[(4 * a + b) * ks + at + ty * tw + tx];
      }
    }
    if (i == 3) { // row 3 is -m3*, spread along the row directly
      return switch (j) {
        case 0 -> -m[3][0];
        case 1 -> (m[3][2] - m[3][1]) - m[3][3];
        case 2 -> (m[3][0] - m[3][1]) - m[3][2];
        default -> m[3][3];
      };
    }
    float[] ri = new float[4];
    for (int b = 0; b < 4; b++) {
      ri[b] =
          switch (i) {
            case 0 -> m[0][b];
            case 1 -> (m[1][b] - m[2][b]) + m[3][b];
            default -> (m[1][b] + m[2][b]) - m[0][b];
          };
    }
    return switch (j) {
      case 0 -> ri[0];
      case 1 -> (ri[1] - ri[2]) + ri[3];
      case 2 -> (ri[1] + ri[2]) - ri[0];
      default -> -ri[3];
    };
  }
}
