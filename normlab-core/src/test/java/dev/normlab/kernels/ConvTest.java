package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvTest {
  private static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  private static void close(String what, ConvGeom g, float[] expected, float[] actual, float tol) {
    for (int i = 0; i < expected.length; i++) {
      // written so that a NaN fails too
      if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])))) {
        fail(what + " " + g + " at " + i + ": expected " + expected[i] + " got " + actual[i]);
      }
    }
  }

  private static void check(ConvGeom g, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = rand(r, g.n() * g.cin() * g.inSize());
    float[] w = rand(r, g.cout() * g.colRows());
    float[] b = rand(r, g.cout());
    int ySize = g.n() * g.cout() * g.outSize();
    float[] y = new float[ySize], yRef = new float[ySize];
    Conv.forward(g, x, w, b, y);
    ConvReference.forward(g, x, w, b, yRef);
    close("forward", g, yRef, y, 1e-4f);
    float[] gy = rand(r, ySize);
    float[] gx = new float[x.length], gxRef = new float[x.length];
    java.util.Arrays.fill(gx, Float.NaN); // outputs are overwritten, not accumulated
    Conv.backwardInput(g, gy, w, gx);
    ConvReference.backwardInput(g, gy, w, gxRef);
    close("backwardInput", g, gxRef, gx, 1e-4f);
    float[] gw = new float[w.length], gwRef = new float[w.length];
    float[] gb = new float[b.length], gbRef = new float[b.length];
    java.util.Arrays.fill(gw, Float.NaN);
    Conv.backwardWeight(g, x, gy, gw, gb);
    ConvReference.backwardWeight(g, x, gy, gwRef, gbRef);
    close("backwardWeight", g, gwRef, gw, 1e-4f);
    close("backwardBias", g, gbRef, gb, 1e-4f);
    // all three in one call (Winograd's shared pass where it applies), outputs overwritten
    java.util.Arrays.fill(gx, Float.NaN);
    java.util.Arrays.fill(gw, Float.NaN);
    java.util.Arrays.fill(gb, Float.NaN);
    Conv.backward(g, x, gy, w, gx, gw, gb);
    close("backward: input", g, gxRef, gx, 1e-4f);
    close("backward: weight", g, gwRef, gw, 1e-4f);
    close("backward: bias", g, gbRef, gb, 1e-4f);
  }

  /**
   * The small-row weight gradient's dot products against a scalar model of their arithmetic, bit
   * for bit: per lane a float multiply-add chain from zero over the whole vectors, the lanes added
   * in order in double, then the tail in float, added to acc. Training results depend on these
   * bits, so the blocking of rows and columns (3 x 4, and the rows and columns left over) must not
   * show; rows 1 to 10 and columns 1 to 13 cover every leftover, lengths below a vector and tails.
   */
  @Test
  void rowDotsMatchTheirScalarModelBitwise() {
    int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    SplittableRandom r = new SplittableRandom(11);
    for (int rows = 1; rows <= 10; rows++) {
      for (int cols = 1; cols <= 13; cols += 1 + r.nextInt(3)) {
        for (int len : new int[] {3, lanes, 2 * lanes + 5, 676}) {
          float[] a = rand(r, 2 + rows * len);
          float[] b = rand(r, 5 + cols * len);
          float[] acc = rand(r, 1 + rows * cols);
          float[] model = acc.clone();
          Conv.rowDots(a, 2, rows, b, 5, cols, len, acc, 1);
          int bound = len - len % lanes;
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              float[] lane = new float[lanes];
              for (int t = 0; t < bound; t++) {
                lane[t % lanes] = Math.fma(a[2 + i * len + t], b[5 + j * len + t], lane[t % lanes]);
              }
              double sum = 0;
              for (float v : lane) {
                sum += v;
              }
              float dot = (float) sum;
              for (int t = bound; t < len; t++) {
                dot += a[2 + i * len + t] * b[5 + j * len + t];
              }
              model[1 + i * cols + j] += dot;
            }
          }
          for (int q = 0; q < acc.length; q++) {
            assertEquals(
                Float.floatToRawIntBits(model[q]),
                Float.floatToRawIntBits(acc[q]),
                "rows " + rows + ", cols " + cols + ", len " + len + ", at " + q);
          }
        }
      }
    }
  }

  private static ConvGeom g2(
      int n, int cin, int h, int w, int cout, int k, int s, int p, int d, int groups) {
    return new ConvGeom(
        n,
        cin,
        new int[] {h, w},
        cout,
        new int[] {k, k},
        new int[] {s, s},
        new int[] {p, p},
        new int[] {d, d},
        groups);
  }

  @Test
  void conv2dMatchesDirectLoops() {
    check(g2(2, 1, 28, 28, 32, 3, 1, 0, 1, 1), 1); // the reference CNN's first layer
    check(g2(3, 32, 13, 13, 64, 3, 1, 0, 1, 1), 2);
    check(g2(2, 4, 9, 7, 6, 3, 2, 1, 1, 2), 3); // stride, padding, groups
    check(g2(2, 6, 11, 10, 6, 3, 1, 2, 2, 3), 4); // dilation
    check(g2(1, 4, 5, 5, 8, 1, 1, 0, 1, 1), 5); // pointwise
    check(g2(2, 3, 8, 8, 3, 3, 1, 1, 1, 3), 6); // depthwise
    check(
        new ConvGeom(
            2,
            3,
            new int[] {7, 9},
            5,
            new int[] {2, 3},
            new int[] {1, 2},
            new int[] {0, 1},
            new int[] {2, 1},
            1),
        7); // non-square everything
  }

  @Test
  void winogradMatchesDirectLoopsOnOddAndEvenSizesAndPaddings() {
    int seed = 100;
    for (int p = 0; p <= 2; p++) {
      // 18 and 34 wide: 8 and 16 tiles a row at padding 0, whole vectors on AVX2 and AVX-512
      for (int[] hw :
          new int[][] {{4, 4}, {5, 7}, {6, 6}, {9, 5}, {26, 26}, {35, 37}, {7, 18}, {5, 34}}) {
        ConvGeom g = g2(3, 8, hw[0], hw[1], 9, 3, 1, p, 1, 1);
        assertEquals(true, Winograd.applies(g), g.toString());
        check(g, seed++);
      }
    }
    // many images: several GEMM groups, the last one partial
    ConvGeom big = g2(7, 16, 12, 12, 8, 3, 1, 1, 1, 1);
    check(big, seed++);
    // groups of whole images, one per thread or more: the filters packed once, V read in place;
    // 13 output channels leave a partial row panel, 5x5 tiles a partial column panel
    check(g2(40, 10, 9, 9, 13, 3, 1, 0, 1, 1), seed++);
    check(g2(40, 9, 9, 9, 13, 3, 1, 1, 1, 1), seed++); // odd cin: the packed path is not taken
    // a plane too large for one work item: bands of tile rows (3 of 35 per band here)
    check(g2(1, 64, 70, 66, 64, 3, 1, 1, 1, 1), seed);
  }

  /**
   * The Winograd weight gradient over several work items and chunks (9 images of the reference
   * CNN's second layer: groups of two images, the last one alone) and on a 6x6 output whose 9 tiles
   * end 7 lanes short of a whole vector, after calls that left NaN in the scratch buffers (the dot
   * products run over whole vectors: the lanes past the last tile must be zeros, not what a
   * previous call left there). Against the direct loops, and bitwise the same when repeated.
   */
  @Test
  void winogradWeightGradientOverItemsIgnoresStaleScratch() {
    ConvGeom[] geoms = {g2(9, 32, 26, 26, 64, 3, 1, 0, 1, 1), g2(1, 32, 8, 8, 64, 3, 1, 0, 1, 1)};
    long seed = 77;
    for (ConvGeom g : geoms) {
      ConvGeom nan = g2(2, 32, 9, 9, 64, 3, 1, 1, 1, 1);
      float[] xNan = new float[nan.n() * nan.cin() * nan.inSize()];
      java.util.Arrays.fill(xNan, Float.NaN);
      float[] gyNan = new float[nan.n() * nan.cout() * nan.outSize()];
      java.util.Arrays.fill(gyNan, Float.NaN);
      float[] sink = new float[nan.cout() * nan.colRows()];
      for (int i = 0; i < 4; i++) { // so that every thread's scratch gets them
        Winograd.backwardWeight(nan, xNan, gyNan, sink);
      }
      SplittableRandom r = new SplittableRandom(seed++);
      float[] x = rand(r, g.n() * g.cin() * g.inSize());
      float[] gy = rand(r, g.n() * g.cout() * g.outSize());
      float[] gw = new float[g.cout() * g.colRows()], again = new float[gw.length];
      float[] reference = new float[gw.length];
      Winograd.backwardWeight(g, x, gy, gw);
      Winograd.backwardWeight(g, x, gy, again);
      ConvReference.backwardWeight(g, x, gy, reference, new float[g.cout()]);
      close("backwardWeight", g, reference, gw, 1e-4f);
      assertArrayEquals(gw, again, 0f);
    }
  }

  @Test
  void winogradIsChosenOnlyWhereItApplies() {
    assertEquals(true, Winograd.applies(g2(64, 32, 26, 26, 64, 3, 1, 0, 1, 1)));
    assertEquals(false, Winograd.applies(g2(64, 1, 28, 28, 32, 3, 1, 0, 1, 1))); // one channel
    assertEquals(false, Winograd.applies(g2(2, 8, 9, 9, 8, 3, 2, 1, 1, 1))); // stride
    assertEquals(false, Winograd.applies(g2(2, 8, 9, 9, 8, 3, 1, 1, 2, 1))); // dilation
    assertEquals(false, Winograd.applies(g2(2, 8, 9, 9, 8, 3, 1, 1, 1, 2))); // groups
    assertEquals(false, Winograd.applies(g2(2, 8, 9, 9, 8, 5, 1, 1, 1, 1))); // 5x5
    assertEquals(false, Winograd.applies(g2(2, 8, 9, 9, 8, 3, 1, 3, 1, 1))); // padding 3
  }

  @Test
  void conv1dAnd3dMatchDirectLoops() {
    check(
        new ConvGeom(
            2, 4, new int[] {17}, 6, new int[] {3}, new int[] {2}, new int[] {1}, new int[] {1}, 2),
        8);
    check(
        new ConvGeom(
            3, 2, new int[] {20}, 3, new int[] {5}, new int[] {1}, new int[] {0}, new int[] {3}, 1),
        9);
    check(
        new ConvGeom(
            2,
            2,
            new int[] {5, 6, 7},
            4,
            new int[] {3, 2, 3},
            new int[] {1, 2, 1},
            new int[] {1, 0, 1},
            new int[] {1, 1, 2},
            2),
        10);
  }

  @Test
  void randomGeometries() {
    SplittableRandom r = new SplittableRandom(77);
    for (int t = 0; t < 25; t++) {
      int nd = 1 + r.nextInt(3);
      int groups = 1 + r.nextInt(3);
      int cin = groups * (1 + r.nextInt(3)), cout = groups * (1 + r.nextInt(3));
      int[] in = new int[nd], k = new int[nd], s = new int[nd], p = new int[nd], d = new int[nd];
      for (int i = 0; i < nd; i++) {
        k[i] = 1 + r.nextInt(3);
        d[i] = 1 + r.nextInt(2);
        s[i] = 1 + r.nextInt(2);
        p[i] = r.nextInt(2);
        in[i] = d[i] * (k[i] - 1) + 1 + r.nextInt(nd == 3 ? 4 : 9);
      }
      check(new ConvGeom(1 + r.nextInt(3), cin, in, cout, k, s, p, d, groups), 100 + t);
    }
  }

  /**
   * The weight gradient packed from a channels-last image computes the products of the im2col one
   * in the same order: bitwise the same, across strides, paddings, dilations, non-square kernels,
   * several GEMM depth blocks (more than 256 output pixels) and output channels that do not fill
   * the micro-kernel's rows. Also against the direct loops.
   */
  @Test
  void channelsLastWeightGradientIsBitwiseTheIm2colOne() {
    int lanes = Gemm.NR;
    ConvGeom[] geoms = {
      g2(5, 2 * lanes, 26, 26, 64, 3, 1, 0, 1, 1), // the reference CNN's second layer, 5 images
      g2(3, lanes, 19, 23, 7, 3, 2, 1, 1, 1),
      g2(2, 3 * lanes, 11, 12, 13, 3, 1, 2, 2, 1),
      new ConvGeom(
          3,
          lanes,
          new int[] {17, 20},
          10,
          new int[] {2, 5},
          new int[] {1, 2},
          new int[] {1, 2},
          new int[] {2, 1},
          1),
    };
    long seed = 40;
    for (ConvGeom g : geoms) {
      assertEquals(true, Conv.unfoldsChannelsLast(g), g.toString());
      SplittableRandom r = new SplittableRandom(seed++);
      float[] x = rand(r, g.n() * g.cin() * g.inSize());
      float[] gy = rand(r, g.n() * g.cout() * g.outSize());
      float[] viaChannelsLast = new float[g.cout() * g.colRows()];
      float[] viaIm2col = new float[viaChannelsLast.length];
      float[] reference = new float[viaChannelsLast.length];
      java.util.Arrays.fill(viaChannelsLast, Float.NaN);
      Conv.backwardWeightChannelsLast(g, Conv.G3.of(g), x, gy, viaChannelsLast);
      Conv.backwardWeightIm2col(g, Conv.G3.of(g), x, gy, viaIm2col);
      ConvReference.backwardWeight(g, x, gy, reference, new float[g.cout()]);
      assertArrayEquals(viaIm2col, viaChannelsLast, 0f, g.toString());
      close("backwardWeight", g, reference, viaChannelsLast, 1e-4f);
    }
    assertEquals(false, Conv.unfoldsChannelsLast(g2(2, lanes + 1, 9, 9, 8, 3, 1, 1, 1, 1)));
    assertEquals(false, Conv.unfoldsChannelsLast(g2(2, 2 * lanes, 9, 9, 8, 3, 1, 1, 1, 2)));
    assertEquals(false, Conv.unfoldsChannelsLast(g2(2, lanes, 9, 9, 8, 1, 1, 0, 1, 1)));
  }

  /**
   * The direct one-channel forward computes the GEMM path's products in its order: bitwise the
   * same, with and without bias, for kernel sizes 3x3, 5x3 and 1x7, row widths that are and are not
   * a multiple of the vector, and odd counts of rows and channels. Also against the direct loops.
   */
  @Test
  void oneChannelForwardIsBitwiseTheGemmOne() {
    int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    ConvGeom[] geoms = {
      g2(3, 1, 28, 28, 32, 3, 1, 0, 1, 1), // the reference CNN's first layer
      // 3x3 with an odd count of rows and of channels (the two-channel kernel's leftovers), rows
      // over two vectors wide, and rows exactly one vector wide
      g2(2, 1, 9, 2 * lanes + 7, 5, 3, 1, 0, 1, 1),
      g2(1, 1, 6, lanes + 2, 3, 3, 1, 0, 1, 1),
      new ConvGeom(
          2,
          1,
          new int[] {9, 21},
          5,
          new int[] {5, 3},
          new int[] {1, 1},
          new int[] {0, 0},
          new int[] {1, 1},
          1),
      new ConvGeom(
          2,
          1,
          new int[] {4, 7 + 2 * Gemm.NR},
          7,
          new int[] {1, 7},
          new int[] {1, 1},
          new int[] {0, 0},
          new int[] {1, 1},
          1),
    };
    long seed = 60;
    for (ConvGeom g : geoms) {
      assertEquals(true, Conv.directSingleChannel(g), g.toString());
      SplittableRandom r = new SplittableRandom(seed++);
      float[] x = rand(r, g.n() * g.inSize());
      float[] w = rand(r, g.cout() * g.colRows());
      float[] b = rand(r, g.cout());
      int ySize = g.n() * g.cout() * g.outSize();
      for (float[] bias : new float[][] {b, null}) {
        float[] direct = new float[ySize], gemm = new float[ySize], ref = new float[ySize];
        java.util.Arrays.fill(direct, Float.NaN);
        Conv.forward(g, x, w, bias, direct);
        Conv.forwardIm2col(g, x, w, bias, gemm);
        ConvReference.forward(g, x, w, bias, ref);
        assertArrayEquals(gemm, direct, 0f, g.toString());
        close("forward", g, ref, direct, 1e-4f);
      }
    }
    assertEquals(false, Conv.directSingleChannel(g2(2, 1, 9, 9, 4, 3, 2, 0, 1, 1))); // stride
    assertEquals(false, Conv.directSingleChannel(g2(2, 1, 9, 9, 4, 3, 1, 1, 1, 1))); // padding
    assertEquals(false, Conv.directSingleChannel(g2(2, 2, 9, 9, 4, 3, 1, 0, 1, 1))); // 2 channels
    assertEquals(false, Conv.directSingleChannel(g2(2, 1, 5, 5, 4, 3, 1, 0, 1, 1))); // narrow rows
  }

  @Test
  void sameThreadsGiveBitwiseSameResults() {
    ConvGeom g = g2(8, 8, 12, 12, 16, 3, 1, 1, 1, 1);
    SplittableRandom r = new SplittableRandom(3);
    float[] x = rand(r, 8 * 8 * 144), w = rand(r, 16 * 72), gy = rand(r, 8 * 16 * 144);
    float[] a = new float[w.length], b = new float[w.length];
    Conv.backwardWeight(g, x, gy, a, null);
    Conv.backwardWeight(g, x, gy, b, null);
    assertArrayEquals(a, b, 0f);
  }

  @Test
  void outputSizeFormula() {
    assertArrayEquals(new int[] {26, 26}, g2(1, 1, 28, 28, 1, 3, 1, 0, 1, 1).outSpatial());
    assertArrayEquals(new int[] {4, 4}, g2(1, 1, 9, 9, 1, 3, 2, 0, 1, 1).outSpatial());
    assertArrayEquals(new int[] {7, 7}, g2(1, 1, 7, 7, 1, 3, 1, 2, 2, 1).outSpatial());
    assertEquals(12, Pool.outSize(24, 2, 2, 0, 1, false));
    // PyTorch: nn.MaxPool2d(2, ceil_mode=True)(torch.zeros(1,1,5,5)).shape == (1,1,3,3)
    assertEquals(3, Pool.outSize(5, 2, 2, 0, 1, true));
    assertEquals(2, Pool.outSize(5, 2, 2, 0, 1, false));
    // ceil_mode never starts a window in the right padding: in=4,k=2,s=2,p=1 -> 3
    assertEquals(3, Pool.outSize(4, 2, 2, 1, 1, true));
  }
}
