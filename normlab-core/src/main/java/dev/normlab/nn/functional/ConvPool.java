package dev.normlab.nn.functional;

import dev.normlab.autograd.Autograd;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.Conv;
import dev.normlab.kernels.ConvGeom;
import dev.normlab.kernels.Pool;
import dev.normlab.tensor.Shapes;
import dev.normlab.tensor.Tensor;

/** Convolution and pooling, as {@code torch.nn.functional.conv*d} and {@code *_pool*d}. */
public final class ConvPool {
  private ConvPool() {}

  public static Tensor conv1d(
      Tensor x, Tensor w, Tensor b, int stride, int padding, int dilation, int groups) {
    return conv(1, x, w, b, new int[] {stride}, new int[] {padding}, new int[] {dilation}, groups);
  }

  public static Tensor conv2d(
      Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation, int groups) {
    return conv(2, x, w, b, stride, padding, dilation, groups);
  }

  public static Tensor conv2d(Tensor x, Tensor w, Tensor b) {
    return conv(2, x, w, b, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 1);
  }

  public static Tensor conv3d(
      Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation, int groups) {
    return conv(3, x, w, b, stride, padding, dilation, groups);
  }

  /**
   * N-d convolution over input [N, Cin, *spatial] (or unbatched [Cin, *spatial]) with weight [Cout,
   * Cin/groups, *kernel] and optional bias [Cout].
   */
  public static Tensor conv(
      int nd,
      Tensor x,
      Tensor w,
      Tensor b,
      int[] stride,
      int[] padding,
      int[] dilation,
      int groups) {
    String op = "conv" + nd + "d";
    if (x.dim() == nd + 1) {
      return conv(nd, x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0);
    }
    int[] xs = x.shape();
    int[] ws = w.shape();
    if (xs.length != nd + 2) {
      throw new IllegalArgumentException(
          "Expected "
              + (nd + 1)
              + "D (unbatched) or "
              + (nd + 2)
              + "D (batched) input to "
              + op
              + ", but got input of size: "
              + Shapes.str(xs));
    }
    if (ws.length != nd + 2) {
      throw new IllegalArgumentException(
          op
              + ": expected weight of "
              + (nd + 2)
              + " dims [out, in/groups, *kernel], got "
              + Shapes.str(ws));
    }
    if (groups < 1 || xs[1] % groups != 0 || ws[0] % groups != 0) {
      throw new IllegalArgumentException(
          op
              + ": in_channels ("
              + xs[1]
              + ") and out_channels ("
              + ws[0]
              + ") must be divisible by groups ("
              + groups
              + ")");
    }
    if (ws[1] * groups != xs[1]) {
      throw new IllegalArgumentException(
          "Given groups="
              + groups
              + ", weight of size "
              + Shapes.str(ws)
              + ", expected input"
              + Shapes.str(xs)
              + " to have "
              + (ws[1] * groups)
              + " channels, but got "
              + xs[1]
              + " channels instead");
    }
    if (b != null && (b.dim() != 1 || b.size(0) != ws[0])) {
      throw new IllegalArgumentException(
          op + ": expected bias of shape [" + ws[0] + "] but got " + Shapes.str(b.shape()));
    }
    int[] spatial = java.util.Arrays.copyOfRange(xs, 2, xs.length);
    int[] kernel = java.util.Arrays.copyOfRange(ws, 2, ws.length);
    ConvGeom g =
        new ConvGeom(
            xs[0],
            xs[1],
            spatial,
            ws[0],
            kernel,
            check(stride, nd, "stride"),
            check(padding, nd, "padding"),
            check(dilation, nd, "dilation"),
            groups);
    int[] os = g.outSpatial();
    for (int i = 0; i < nd; i++) {
      if (os[i] <= 0) {
        throw new IllegalArgumentException(
            "Calculated padded input size per channel: "
                + Shapes.str(spatial)
                + ". Kernel size: "
                + Shapes.str(kernel)
                + ". Kernel size can't be greater than actual input size");
      }
    }
    int[] outShape = new int[nd + 2];
    outShape[0] = xs[0];
    outShape[1] = ws[0];
    System.arraycopy(os, 0, outShape, 2, nd);
    float[] y = Buffers.uninitialized(Shapes.numel(outShape));
    Conv.forward(g, x.data(), w.data(), b == null ? null : b.data(), y);
    return Autograd.record(
        op,
        Tensor.of(y, outShape),
        grad -> {
          float[] gy = grad.data();
          float[] d = x.requiresGrad() ? Buffers.uninitialized(x.numel()) : null;
          boolean params = w.requiresGrad() || (b != null && b.requiresGrad());
          float[] dw = params ? Buffers.zeroed(w.numel()) : null;
          float[] db = params && b != null ? Buffers.zeroed(ws[0]) : null;
          Conv.backward(g, x.data(), gy, w.data(), d, dw, db);
          Tensor gx = d == null ? null : Tensor.of(d, xs);
          Tensor gw = w.requiresGrad() ? Tensor.of(dw, ws) : null;
          Tensor gb = b != null && b.requiresGrad() ? Tensor.of(db, ws[0]) : null;
          return new Tensor[] {gx, gw, gb};
        },
        x,
        w,
        b);
  }

  private static int[] check(int[] v, int nd, String name) {
    if (v.length == 1 && nd > 1) {
      int[] r = new int[nd];
      java.util.Arrays.fill(r, v[0]);
      v = r;
    }
    if (v.length != nd) {
      throw new IllegalArgumentException(
          name + " must have " + nd + " elements, got " + Shapes.str(v));
    }
    for (int e : v) {
      if (e < (name.equals("padding") ? 0 : 1)) {
        throw new IllegalArgumentException(
            "non-positive " + name + " is not supported: " + Shapes.str(v));
      }
    }
    return v.clone();
  }

  // ------------------------------------------------------------------ pooling

  /** 2-d max pooling with kernel = stride = {@code k}. */
  public static Tensor maxPool2d(Tensor x, int k) {
    return maxPool2d(
        x, new int[] {k, k}, new int[] {k, k}, new int[] {0, 0}, new int[] {1, 1}, false);
  }

  /**
   * As {@code F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)}; input (N,C,H,W) or
   * (C,H,W).
   */
  public static Tensor maxPool2d(
      Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceil) {
    return pool(2, true, x, kernel, stride, padding, dilation, ceil, true);
  }

  public static Tensor maxPool1d(
      Tensor x, int kernel, int stride, int padding, int dilation, boolean ceil) {
    return pool(
        1,
        true,
        x,
        new int[] {kernel},
        new int[] {stride},
        new int[] {padding},
        new int[] {dilation},
        ceil,
        true);
  }

  /** As {@code F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)}. */
  public static Tensor avgPool2d(
      Tensor x, int[] kernel, int[] stride, int[] padding, boolean ceil, boolean countIncludePad) {
    return pool(2, false, x, kernel, stride, padding, new int[] {1, 1}, ceil, countIncludePad);
  }

  public static Tensor avgPool1d(
      Tensor x, int kernel, int stride, int padding, boolean ceil, boolean countIncludePad) {
    return pool(
        1,
        false,
        x,
        new int[] {kernel},
        new int[] {stride},
        new int[] {padding},
        new int[] {1},
        ceil,
        countIncludePad);
  }

  private static Tensor pool(
      int nd,
      boolean max,
      Tensor x,
      int[] kernel,
      int[] stride,
      int[] padding,
      int[] dilation,
      boolean ceil,
      boolean countIncludePad) {
    String op = (max ? "max_pool" : "avg_pool") + nd + "d";
    int[] xs = x.shape();
    if (xs.length != nd + 1 && xs.length != nd + 2) {
      throw new IllegalArgumentException(
          op
              + ": Expected "
              + (nd + 1)
              + "D or "
              + (nd + 2)
              + "D input, but got input of size: "
              + Shapes.str(xs));
    }
    int[] k = check(kernel, nd, "kernel_size");
    int[] s = stride == null || stride.length == 0 ? k.clone() : check(stride, nd, "stride");
    int[] p = check(padding, nd, "padding");
    int[] d = check(dilation, nd, "dilation");
    for (int i = 0; i < nd; i++) {
      if (p[i] * 2 > k[i]) {
        throw new IllegalArgumentException(
            "pad should be at most half of effective kernel size, but got pad="
                + p[i]
                + ", kernel_size="
                + k[i]
                + " and dilation="
                + d[i]);
      }
    }
    // treat 1-d as 2-d with a height of 1
    int kh = nd == 2 ? k[0] : 1, kw = k[nd - 1];
    int sh = nd == 2 ? s[0] : 1, sw = s[nd - 1];
    int ph = nd == 2 ? p[0] : 0, pw = p[nd - 1];
    int dh = nd == 2 ? d[0] : 1, dw = d[nd - 1];
    int ih = nd == 2 ? xs[xs.length - 2] : 1, iw = xs[xs.length - 1];
    int oh = nd == 2 ? Pool.outSize(ih, kh, sh, ph, dh, ceil) : 1;
    int ow = Pool.outSize(iw, kw, sw, pw, dw, ceil);
    if (oh <= 0 || ow <= 0) {
      throw new IllegalArgumentException(
          op
              + ": Given input size: "
              + Shapes.str(xs)
              + ". Calculated output size is too small ("
              + oh
              + "x"
              + ow
              + ")");
    }
    int planes = x.numel() / Math.max(1, ih * iw);
    int[] outShape = xs.clone();
    outShape[xs.length - 1] = ow;
    if (nd == 2) {
      outShape[xs.length - 2] = oh;
    }
    float[] y = Buffers.uninitialized(planes * oh * ow);
    Pool.Window win = new Pool.Window(ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw);
    if (max) {
      int[] arg = new int[y.length];
      Pool.maxForward(planes, win, x.data(), y, arg);
      return Autograd.record(
          op,
          Tensor.of(y, outShape),
          g -> {
            float[] gx = Buffers.uninitialized(x.numel()); // maxBackward writes all of it
            Pool.maxBackward(planes, win, g.data(), arg, gx);
            return new Tensor[] {Tensor.of(gx, xs)};
          },
          x);
    }
    Pool.avgForward(planes, win, countIncludePad, x.data(), y);
    return Autograd.record(
        op,
        Tensor.of(y, outShape),
        g -> {
          float[] gx = Buffers.uninitialized(x.numel()); // avgBackward zeroes it plane by plane
          Pool.avgBackward(planes, win, countIncludePad, g.data(), gx);
          return new Tensor[] {Tensor.of(gx, xs)};
        },
        x);
  }
}
