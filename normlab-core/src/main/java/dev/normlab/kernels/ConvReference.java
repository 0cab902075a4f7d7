package dev.normlab.kernels;

/** The scalar twin of {@link Conv}: direct convolution loops, accumulated in double. */
public final class ConvReference {
  private ConvReference() {}

  /** Calls {@code body(n, oc, outFlat, ic, inFlat, wFlat)} for every contributing term. */
  private interface Term {
    void at(int n, int oc, int o, int ic, int i, int wi);
  }

  private static void each(ConvGeom g, Term term) {
    int nd = g.nd();
    int[] os = g.outSpatial();
    int cinG = g.cin() / g.groups(), coutG = g.cout() / g.groups();
    int outSize = g.outSize(), kSize = g.kernelSize();
    int[] o = new int[nd], k = new int[nd];
    for (int n = 0; n < g.n(); n++) {
      for (int oc = 0; oc < g.cout(); oc++) {
        int gr = oc / coutG;
        for (int of = 0; of < outSize; of++) {
          unflat(of, os, o);
          for (int icg = 0; icg < cinG; icg++) {
            int ic = gr * cinG + icg;
            for (int kf = 0; kf < kSize; kf++) {
              unflat(kf, g.kernel(), k);
              int inFlat = 0;
              boolean inside = true;
              for (int a = 0; a < nd; a++) {
                int pos = o[a] * g.stride()[a] - g.padding()[a] + k[a] * g.dilation()[a];
                if (pos < 0 || pos >= g.in()[a]) {
                  inside = false;
                  break;
                }
                inFlat = inFlat * g.in()[a] + pos;
              }
              if (inside) {
                term.at(n, oc, of, ic, inFlat, (oc * cinG + icg) * kSize + kf);
              }
            }
          }
        }
      }
    }
  }

  private static void unflat(int f, int[] dims, int[] out) {
    for (int a = dims.length - 1; a >= 0; a--) {
      out[a] = f % dims[a];
      f /= dims[a];
    }
  }

  public static void forward(ConvGeom g, float[] x, float[] w, float[] bias, float[] y) {
    int outSize = g.outSize(), inSize = g.inSize();
    double[] acc = new double[y.length];
    each(
        g,
        (n, oc, o, ic, i, wi) ->
            acc[(n * g.cout() + oc) * outSize + o] +=
                (double) x[(n * g.cin() + ic) * inSize + i] * w[wi]);
    for (int n = 0; n < g.n(); n++) {
      for (int oc = 0; oc < g.cout(); oc++) {
        for (int o = 0; o < outSize; o++) {
          int yi = (n * g.cout() + oc) * outSize + o;
          y[yi] = (float) (acc[yi] + (bias == null ? 0 : bias[oc]));
        }
      }
    }
  }

  public static void backwardInput(ConvGeom g, float[] gy, float[] w, float[] gx) {
    int outSize = g.outSize(), inSize = g.inSize();
    double[] acc = new double[gx.length];
    each(
        g,
        (n, oc, o, ic, i, wi) ->
            acc[(n * g.cin() + ic) * inSize + i] +=
                (double) gy[(n * g.cout() + oc) * outSize + o] * w[wi]);
    for (int i = 0; i < gx.length; i++) {
      gx[i] = (float) acc[i];
    }
  }

  public static void backwardWeight(ConvGeom g, float[] x, float[] gy, float[] gw, float[] gbias) {
    int outSize = g.outSize(), inSize = g.inSize();
    double[] acc = new double[gw.length];
    each(
        g,
        (n, oc, o, ic, i, wi) ->
            acc[wi] +=
                (double) gy[(n * g.cout() + oc) * outSize + o]
                    * x[(n * g.cin() + ic) * inSize + i]);
    for (int i = 0; i < gw.length; i++) {
      gw[i] = (float) acc[i];
    }
    if (gbias != null) {
      for (int oc = 0; oc < g.cout(); oc++) {
        double s = 0;
        for (int n = 0; n < g.n(); n++) {
          for (int o = 0; o < outSize; o++) {
            s += gy[(n * g.cout() + oc) * outSize + o];
          }
        }
        gbias[oc] = (float) s;
      }
    }
  }
}
