package dev.normlab.tensor;

import dev.normlab.autograd.Autograd;
import dev.normlab.kernels.Buffers;

/** View and copying shape ops. */
final class ShapeOps {
  private ShapeOps() {}

  static Tensor reshape(Tensor x, int[] shape) {
    if (Shapes.numel(shape) != x.numel()) {
      throw new IllegalArgumentException(
          "shape '" + Shapes.str(shape) + "' is invalid for input of size " + x.numel());
    }
    int[] in = x.shape();
    return Autograd.record(
        "view", x.withShape(shape.clone()), g -> new Tensor[] {g.reshape(in)}, x);
  }

  /** Copies {@code x} with its dims reordered: output dim i is input dim {@code perm[i]}. */
  static Tensor permute(Tensor x, int[] perm) {
    int[] shape = x.shape();
    int r = shape.length;
    if (perm.length != r) {
      throw new IllegalArgumentException(
          "permute(sparse_coo): number of dimensions in the tensor input does not match the length of"
              + " the desired ordering of dimensions i.e. input.dim() = "
              + r
              + " is not equal to len(dims) = "
              + perm.length);
    }
    int[] p = new int[r];
    boolean[] seen = new boolean[r];
    for (int i = 0; i < r; i++) {
      p[i] = Shapes.dim(perm[i], r);
      if (seen[p[i]]) {
        throw new IllegalArgumentException("permute(): duplicate dims are not allowed.");
      }
      seen[p[i]] = true;
    }
    int[] outShape = new int[r];
    int[] inStrides = Shapes.strides(shape);
    int[] srcStride = new int[r];
    for (int i = 0; i < r; i++) {
      outShape[i] = shape[p[i]];
      srcStride[i] = inStrides[p[i]];
    }
    float[] out = gather(x.data(), outShape, srcStride, 0);
    int[] inverse = new int[r];
    for (int i = 0; i < r; i++) {
      inverse[p[i]] = i;
    }
    return Autograd.record(
        "permute", Tensor.fresh(out, outShape), g -> new Tensor[] {permute(g, inverse)}, x);
  }

  /**
   * Reads {@code src} with the given strides and base offset into a contiguous array of outShape.
   */
  static float[] gather(float[] src, int[] outShape, int[] srcStride, int base) {
    int n = Shapes.numel(outShape);
    float[] out = Buffers.uninitialized(n);
    int r = outShape.length;
    if (n == 0) {
      return out;
    }
    if (r == 0) {
      out[0] = src[base];
      return out;
    }
    int inner = outShape[r - 1];
    int is = srcStride[r - 1];
    int[] idx = new int[r - 1];
    int off = base;
    for (int o = 0; o < n; o += inner) {
      if (is == 1) {
        System.arraycopy(src, off, out, o, inner);
      } else {
        for (int i = 0; i < inner; i++) {
          out[o + i] = src[off + i * is];
        }
      }
      for (int d = r - 2; d >= 0; d--) {
        idx[d]++;
        off += srcStride[d];
        if (idx[d] < outShape[d]) {
          break;
        }
        off -= srcStride[d] * outShape[d];
        idx[d] = 0;
      }
    }
    return out;
  }

  static Tensor slice(Tensor x, int dim, int start, int end, int step) {
    int[] shape = x.shape();
    int d = Shapes.dim(dim, shape.length);
    if (step <= 0) {
      throw new IllegalArgumentException("slice step must be positive");
    }
    int size = shape[d];
    int s = start < 0 ? Math.max(0, start + size) : Math.min(start, size);
    int e = end < 0 ? Math.max(0, end + size) : Math.min(end, size);
    int len = e > s ? (e - s + step - 1) / step : 0;
    int[] outShape = shape.clone();
    outShape[d] = len;
    int[] strides = Shapes.strides(shape);
    int[] src = strides.clone();
    src[d] = strides[d] * step;
    float[] out = gather(x.data(), outShape, src, s * strides[d]);
    return Autograd.record(
        "slice",
        Tensor.fresh(out, outShape),
        g -> {
          float[] gi = Buffers.zeroed(x.numel());
          scatterAdd(g.data(), outShape, src, s * strides[d], gi);
          return new Tensor[] {Tensor.fresh(gi, shape)};
        },
        x);
  }

  /** The adjoint of {@link #gather}: adds a contiguous array into strided positions of dst. */
  static void scatterAdd(float[] g, int[] shape, int[] dstStride, int base, float[] dst) {
    int r = shape.length;
    int n = g.length;
    if (n == 0) {
      return;
    }
    if (r == 0) {
      dst[base] += g[0];
      return;
    }
    int inner = shape[r - 1];
    int is = dstStride[r - 1];
    int[] idx = new int[r - 1];
    int off = base;
    for (int o = 0; o < n; o += inner) {
      for (int i = 0; i < inner; i++) {
        dst[off + i * is] += g[o + i];
      }
      for (int d = r - 2; d >= 0; d--) {
        idx[d]++;
        off += dstStride[d];
        if (idx[d] < shape[d]) {
          break;
        }
        off -= dstStride[d] * shape[d];
        idx[d] = 0;
      }
    }
  }

  static Tensor indexSelect(Tensor x, int dim, int[] indices) {
    int[] shape = x.shape();
    int d = Shapes.dim(dim, shape.length);
    int outer = 1, inner = 1;
    for (int i = 0; i < d; i++) {
      outer *= shape[i];
    }
    for (int i = d + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    int n = shape[d];
    for (int ix : indices) {
      if (ix < 0 || ix >= n) {
        throw new IndexOutOfBoundsException(
            "index out of range in self: index " + ix + " for dimension " + d + " with size " + n);
      }
    }
    int[] outShape = shape.clone();
    outShape[d] = indices.length;
    float[] src = x.data();
    float[] out = Buffers.uninitialized(Shapes.numel(outShape));
    int fo = outer, fi = inner;
    for (int o = 0; o < outer; o++) {
      for (int k = 0; k < indices.length; k++) {
        System.arraycopy(
            src, (o * n + indices[k]) * inner, out, (o * indices.length + k) * inner, inner);
      }
    }
    return Autograd.record(
        "index_select",
        Tensor.fresh(out, outShape),
        g -> {
          float[] gd = g.data();
          float[] gi = Buffers.zeroed(src.length);
          for (int o = 0; o < fo; o++) {
            for (int k = 0; k < indices.length; k++) {
              int so = (o * n + indices[k]) * fi, go = (o * indices.length + k) * fi;
              for (int i = 0; i < fi; i++) {
                gi[so + i] += gd[go + i];
              }
            }
          }
          return new Tensor[] {Tensor.fresh(gi, shape)};
        },
        x);
  }

  static Tensor cat(int dim, Tensor... ts) {
    if (ts.length == 0) {
      throw new IllegalArgumentException("torch.cat(): expected a non-empty list of Tensors");
    }
    int[] first = ts[0].shape();
    int d = Shapes.dim(dim, first.length);
    int total = 0;
    for (int t = 0; t < ts.length; t++) {
      int[] s = ts[t].shape();
      if (s.length != first.length) {
        throw new IllegalArgumentException(
            "Tensors must have same number of dimensions: got "
                + first.length
                + " and "
                + s.length);
      }
      for (int i = 0; i < s.length; i++) {
        if (i != d && s[i] != first[i]) {
          throw new IllegalArgumentException(
              "Sizes of tensors must match except in dimension "
                  + d
                  + ". Expected size "
                  + first[i]
                  + " but got size "
                  + s[i]
                  + " for tensor number "
                  + t
                  + " in the list.");
        }
      }
      total += s[d];
    }
    int outer = 1, inner = 1;
    for (int i = 0; i < d; i++) {
      outer *= first[i];
    }
    for (int i = d + 1; i < first.length; i++) {
      inner *= first[i];
    }
    int[] outShape = first.clone();
    outShape[d] = total;
    float[] out = Buffers.uninitialized(Shapes.numel(outShape));
    int[] offsets = new int[ts.length];
    int acc = 0;
    for (int t = 0; t < ts.length; t++) {
      offsets[t] = acc;
      int len = ts[t].size(d) * inner;
      float[] src = ts[t].data();
      for (int o = 0; o < outer; o++) {
        System.arraycopy(src, o * len, out, o * total * inner + acc * inner, len);
      }
      acc += ts[t].size(d);
    }
    return Autograd.record(
        "cat",
        Tensor.fresh(out, outShape),
        g -> {
          Tensor[] gs = new Tensor[ts.length];
          for (int t = 0; t < ts.length; t++) {
            gs[t] =
                ts[t].requiresGrad()
                    ? slice(g, d, offsets[t], offsets[t] + ts[t].size(d), 1)
                    : null;
          }
          return gs;
        },
        ts);
  }

  static Tensor stack(int dim, Tensor... ts) {
    if (ts.length == 0) {
      throw new IllegalArgumentException("stack expects a non-empty TensorList");
    }
    int[] s0 = ts[0].shape();
    Tensor[] u = new Tensor[ts.length];
    int d = Shapes.dim(dim, s0.length + 1);
    for (int i = 0; i < ts.length; i++) {
      if (!java.util.Arrays.equals(s0, ts[i].shape())) {
        throw new IllegalArgumentException(
            "stack expects each tensor to be equal size, but got "
                + Shapes.str(s0)
                + " at entry 0 and "
                + Shapes.str(ts[i].shape())
                + " at entry "
                + i);
      }
      u[i] = ts[i].unsqueeze(d);
    }
    return cat(d, u);
  }
}
