package dev.normlab.tensor;

import dev.normlab.autograd.Autograd;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.Gemm;

/** Matrix products with {@code torch.matmul}'s rules. */
final class MatOps {
  private MatOps() {}

  static Tensor matmul(Tensor a, Tensor b) {
    int ra = a.dim(), rb = b.dim();
    if (ra == 0 || rb == 0) {
      throw new IllegalArgumentException(
          "both arguments to matmul need to be at least 1D, but they are "
              + ra
              + "D and "
              + rb
              + "D");
    }
    // Promote 1-D operands to matrices, multiply, then drop the added dims (as PyTorch does).
    Tensor a2 = ra == 1 ? a.unsqueeze(0) : a;
    Tensor b2 = rb == 1 ? b.unsqueeze(1) : b;
    Tensor out = batched(a2, b2);
    if (ra == 1) {
      out = out.squeeze(-2);
    }
    if (rb == 1) {
      out = out.squeeze(-1);
    }
    return out;
  }

  /** (..., m, k) @ (..., k, n) with broadcast batch dims. */
  private static Tensor batched(Tensor a, Tensor b) {
    int[] as = a.shape(), bs = b.shape();
    int m = as[as.length - 2], k = as[as.length - 1];
    int k2 = bs[bs.length - 2], n = bs[bs.length - 1];
    if (k != k2) {
      throw new IllegalArgumentException(
          "mat1 and mat2 shapes cannot be multiplied ("
              + m
              + "x"
              + k
              + " and "
              + k2
              + "x"
              + n
              + "); shapes "
              + Shapes.str(as)
              + " and "
              + Shapes.str(bs));
    }
    int[] batchA = java.util.Arrays.copyOf(as, as.length - 2);
    int[] batchB = java.util.Arrays.copyOf(bs, bs.length - 2);
    int[] batch = Shapes.broadcast(batchA, batchB);
    int nb = Shapes.numel(batch);
    int[] outShape = java.util.Arrays.copyOf(batch, batch.length + 2);
    outShape[batch.length] = m;
    outShape[batch.length + 1] = n;
    int[] sa = Shapes.broadcastStrides(batchA, batch);
    int[] sb = Shapes.broadcastStrides(batchB, batch);
    int[] offA = batchOffsets(batch, sa, m * k);
    int[] offB = batchOffsets(batch, sb, k * n);
    float[] ad = a.data(), bd = b.data();
    float[] out = Buffers.uninitialized(nb * m * n);
    for (int i = 0; i < nb; i++) {
      Gemm.sgemm(false, false, m, n, k, 1f, ad, offA[i], k, bd, offB[i], n, 0f, out, i * m * n, n);
    }
    Tensor ad0 = a.detach(), bd0 = b.detach();
    return Autograd.record(
        "matmul",
        Tensor.fresh(out, outShape),
        g -> {
          float[] gd = g.data();
          Tensor ga = null, gb = null;
          if (a.requiresGrad()) {
            // dA = dC @ B^T, summed over broadcast batch entries
            float[] gad = Buffers.zeroed(ad.length);
            for (int i = 0; i < nb; i++) {
              Gemm.sgemm(
                  false, true, m, k, n, 1f, gd, i * m * n, n, bd, offB[i], n, 1f, gad, offA[i], k);
            }
            ga = Tensor.fresh(gad, as);
          }
          if (b.requiresGrad()) {
            float[] gbd = Buffers.zeroed(bd.length);
            for (int i = 0; i < nb; i++) {
              Gemm.sgemm(
                  true, false, k, n, m, 1f, ad, offA[i], k, gd, i * m * n, n, 1f, gbd, offB[i], n);
            }
            gb = Tensor.fresh(gbd, bs);
          }
          return new Tensor[] {ga, gb};
        },
        a,
        b);
  }

  /** Storage offset of each broadcast batch entry, given per-dim strides in units of matrices. */
  private static int[] batchOffsets(int[] batch, int[] strides, int matrixSize) {
    int nb = Shapes.numel(batch);
    int[] off = new int[nb];
    int[] idx = new int[batch.length];
    for (int i = 0; i < nb; i++) {
      int o = 0;
      for (int d = 0; d < batch.length; d++) {
        o += idx[d] * strides[d];
      }
      off[i] = o * matrixSize;
      for (int d = batch.length - 1; d >= 0; d--) {
        if (++idx[d] < batch[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return off;
  }
}
