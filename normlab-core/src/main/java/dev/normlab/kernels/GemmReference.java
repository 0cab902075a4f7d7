package dev.normlab.kernels;

/** The scalar twin of {@link Gemm}: the textbook triple loop. */
public final class GemmReference {
  private GemmReference() {}

  public static void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0;
        for (int p = 0; p < k; p++) {
          float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s += x * y;
        }
        int ci = cOff + i * ldc + j;
        c[ci] = beta == 0 ? alpha * s : alpha * s + beta * c[ci];
      }
    }
  }
}
