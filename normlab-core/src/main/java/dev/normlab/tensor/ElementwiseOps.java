package dev.normlab.tensor;

import dev.normlab.autograd.Autograd;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.Elementwise;
import dev.normlab.kernels.Parallel;
import java.util.function.DoubleUnaryOperator;

/** Differentiable elementwise ops with broadcasting. */
final class ElementwiseOps {
  private ElementwiseOps() {}

  enum Cmp {
    EQ,
    NE,
    LT,
    LE,
    GT,
    GE
  }

  /** Applies a binary kernel with broadcasting into a new tensor of the broadcast shape. */
  static Tensor broadcastBinary(Elementwise.Op op, Tensor a, Tensor b) {
    int[] outShape = Shapes.broadcast(a.shapeRef(), b.shapeRef());
    float[] out = Buffers.uninitialized(Shapes.numel(outShape));
    float[] ad = a.data();
    float[] bd = b.data();
    if (ad.length == out.length && bd.length == out.length) {
      Parallel.forRange(
          out.length,
          1 << 15,
          (from, to) -> Elementwise.binary(op, ad, from, 1, bd, from, 1, out, from, to - from));
      return Tensor.fresh(out, outShape);
    }
    int r = outShape.length;
    if (r == 0) {
      out[0] = Elementwise.scalar(op, ad[0], bd[0]);
      return Tensor.fresh(out, outShape);
    }
    int[] sa = Shapes.broadcastStrides(a.shapeRef(), outShape);
    int[] sb = Shapes.broadcastStrides(b.shapeRef(), outShape);
    int inner = outShape[r - 1];
    int outer = inner == 0 ? 0 : out.length / inner;
    int[] idx = new int[r - 1];
    int ao = 0, bo = 0;
    for (int o = 0; o < outer; o++) {
      Elementwise.binary(op, ad, ao, sa[r - 1], bd, bo, sb[r - 1], out, o * inner, inner);
      // odometer over the outer dims
      for (int d = r - 2; d >= 0; d--) {
        idx[d]++;
        ao += sa[d];
        bo += sb[d];
        if (idx[d] < outShape[d]) {
          break;
        }
        ao -= sa[d] * outShape[d];
        bo -= sb[d] * outShape[d];
        idx[d] = 0;
      }
    }
    return Tensor.fresh(out, outShape);
  }

  /** Sums {@code g} down to {@code shape} (the inverse of broadcasting), for backward. */
  static Tensor sumTo(Tensor g, int[] shape) {
    int[] gs = g.shapeRef();
    if (java.util.Arrays.equals(gs, shape)) {
      return g;
    }
    int lead = gs.length - shape.length;
    int count = 0;
    int[] dims = new int[gs.length];
    for (int i = 0; i < gs.length; i++) {
      if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) {
        dims[count++] = i;
      }
    }
    Tensor s = ReduceOps.sum(g, java.util.Arrays.copyOf(dims, count), true);
    return s.reshape(shape);
  }

  static Tensor add(Tensor a, Tensor b) {
    Tensor out = broadcastBinary(Elementwise.Op.ADD, a, b);
    int[] as = a.shape(), bs = b.shape();
    return Autograd.record("add", out, g -> new Tensor[] {sumTo(g, as), sumTo(g, bs)}, a, b);
  }

  static Tensor sub(Tensor a, Tensor b) {
    Tensor out = broadcastBinary(Elementwise.Op.SUB, a, b);
    int[] as = a.shape(), bs = b.shape();
    return Autograd.record(
        "sub",
        out,
        g -> new Tensor[] {sumTo(g, as), b.requiresGrad() ? sumTo(g.neg(), bs) : null},
        a,
        b);
  }

  static Tensor mul(Tensor a, Tensor b) {
    Tensor out = broadcastBinary(Elementwise.Op.MUL, a, b);
    Tensor ad = a.detach(), bd = b.detach();
    return Autograd.record(
        "mul",
        out,
        g ->
            new Tensor[] {
              a.requiresGrad() ? sumTo(g.mul(bd), a.shape()) : null,
              b.requiresGrad() ? sumTo(g.mul(ad), b.shape()) : null
            },
        a,
        b);
  }

  static Tensor div(Tensor a, Tensor b) {
    Tensor out = broadcastBinary(Elementwise.Op.DIV, a, b);
    Tensor ad = a.detach(), bd = b.detach();
    return Autograd.record(
        "div",
        out,
        g ->
            new Tensor[] {
              a.requiresGrad() ? sumTo(g.div(bd), a.shape()) : null,
              b.requiresGrad() ? sumTo(g.mul(ad).div(bd.mul(bd)).neg(), b.shape()) : null
            },
        a,
        b);
  }

  static Tensor addScalar(Tensor a, float s) {
    float[] x = a.data();
    float[] y = Buffers.uninitialized(x.length);
    Elementwise.scaleShift(x.length, x, 0, 1f, s, y, 0);
    return Autograd.record("add", Tensor.fresh(y, a.shape()), g -> new Tensor[] {g}, a);
  }

  static Tensor mulScalar(Tensor a, float s) {
    float[] x = a.data();
    float[] y = Buffers.uninitialized(x.length);
    Elementwise.scaleShift(x.length, x, 0, s, 0f, y, 0);
    return Autograd.record("mul", Tensor.fresh(y, a.shape()), g -> new Tensor[] {g.mul(s)}, a);
  }

  private static Tensor map(Tensor a, DoubleUnaryOperator f) {
    float[] x = a.data();
    float[] y = Buffers.uninitialized(x.length);
    for (int i = 0; i < x.length; i++) {
      y[i] = (float) f.applyAsDouble(x[i]);
    }
    return Tensor.fresh(y, a.shape());
  }

  static Tensor exp(Tensor a) {
    Tensor out = map(a, Math::exp);
    Tensor od = out.detach();
    return Autograd.record("exp", out, g -> new Tensor[] {g.mul(od)}, a);
  }

  static Tensor log(Tensor a) {
    Tensor out = map(a, Math::log);
    Tensor ad = a.detach();
    return Autograd.record("log", out, g -> new Tensor[] {g.div(ad)}, a);
  }

  static Tensor sqrt(Tensor a) {
    Tensor out = map(a, Math::sqrt);
    Tensor od = out.detach();
    return Autograd.record("sqrt", out, g -> new Tensor[] {g.div(od.mul(2f))}, a);
  }

  static Tensor abs(Tensor a) {
    Tensor out = map(a, Math::abs);
    Tensor sign = map(a, Math::signum);
    return Autograd.record("abs", out, g -> new Tensor[] {g.mul(sign)}, a);
  }

  static Tensor pow(Tensor a, float e) {
    Tensor out = map(a, v -> Math.pow(v, e));
    Tensor ad = a.detach();
    return Autograd.record(
        "pow",
        out,
        g ->
            new Tensor[] {
              e == 0 ? Tensor.zeros(ad.shape()) : g.mul(map(ad, v -> e * Math.pow(v, e - 1)))
            },
        a);
  }

  static Tensor pow(Tensor a, Tensor e) {
    int[] outShape = Shapes.broadcast(a.shapeRef(), e.shapeRef());
    Tensor ab = broadcastBinary(Elementwise.Op.ADD, a, Tensor.zeros(outShape));
    Tensor eb = broadcastBinary(Elementwise.Op.ADD, e, Tensor.zeros(outShape));
    float[] x = ab.data(), p = eb.data();
    float[] y = Buffers.uninitialized(x.length);
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) Math.pow(x[i], p[i]);
    }
    Tensor out = Tensor.fresh(y, outShape);
    return Autograd.record(
        "pow",
        out,
        g -> {
          float[] gd = g.data();
          float[] ga = Buffers.zeroed(y.length);
          float[] ge = Buffers.zeroed(y.length);
          for (int i = 0; i < y.length; i++) {
            ga[i] = (float) (gd[i] * p[i] * Math.pow(x[i], p[i] - 1));
            ge[i] = x[i] > 0 ? (float) (gd[i] * y[i] * Math.log(x[i])) : 0f;
          }
          return new Tensor[] {
            sumTo(Tensor.fresh(ga, outShape), a.shape()),
            sumTo(Tensor.fresh(ge, outShape), e.shape())
          };
        },
        a,
        e);
  }

  static Tensor clamp(Tensor a, float min, float max) {
    boolean hasMin = !Float.isNaN(min), hasMax = !Float.isNaN(max);
    float[] x = a.data();
    float[] y = Buffers.uninitialized(x.length);
    float[] pass = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      float v = x[i];
      boolean in = true;
      if (hasMin && v < min) {
        v = min;
        in = false;
      }
      if (hasMax && v > max) {
        v = max;
        in = false;
      }
      y[i] = v;
      pass[i] = in ? 1f : 0f;
    }
    Tensor mask = Tensor.fresh(pass, a.shape());
    return Autograd.record("clamp", Tensor.fresh(y, a.shape()), g -> new Tensor[] {g.mul(mask)}, a);
  }

  static Tensor compare(Tensor a, Tensor b, Cmp cmp) {
    Tensor diff = broadcastBinary(Elementwise.Op.SUB, a, b);
    Tensor ab = broadcastBinary(Elementwise.Op.ADD, a, Tensor.zeros(diff.shapeRef()));
    Tensor bb = broadcastBinary(Elementwise.Op.ADD, b, Tensor.zeros(diff.shapeRef()));
    float[] x = ab.data(), z = bb.data();
    float[] y = Buffers.uninitialized(x.length);
    for (int i = 0; i < y.length; i++) {
      boolean r =
          switch (cmp) {
            case EQ -> x[i] == z[i];
            case NE -> x[i] != z[i];
            case LT -> x[i] < z[i];
            case LE -> x[i] <= z[i];
            case GT -> x[i] > z[i];
            case GE -> x[i] >= z[i];
          };
      y[i] = r ? 1f : 0f;
    }
    return Tensor.fresh(y, diff.shapeRef());
  }
}
