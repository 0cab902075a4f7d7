package dev.normlab.optim;

/**
 * Cosine annealing from each group's initial lr down to {@code etaMin} over {@code tMax} epochs, as
 * {@code CosineAnnealingLR} (its recursive form, which is what PyTorch computes when stepped).
 */
public final class CosineAnnealingLR extends LRScheduler {
  private final int tMax;
  private final double etaMin;

  public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
    super(optimizer);
    if (tMax <= 0) {
      throw new IllegalArgumentException("T_max must be positive, got " + tMax);
    }
    this.tMax = tMax;
    this.etaMin = etaMin;
    initialStep();
  }

  public CosineAnnealingLR(Optimizer optimizer, int tMax) {
    this(optimizer, tMax, 0);
  }

  @Override
  protected double[] computeLr(int epoch) {
    double[] out = new double[baseLrs.length];
    for (int i = 0; i < out.length; i++) {
      double lr = groupLr(i);
      if (epoch == 0) {
        out[i] = lr;
      } else if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
        out[i] = lr + (baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
      } else {
        out[i] =
            (1 + Math.cos(Math.PI * epoch / tMax))
                    / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                    * (lr - etaMin)
                + etaMin;
      }
    }
    return out;
  }

  @Override
  public double[] closedFormLr(int epoch) {
    double[] out = new double[baseLrs.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = etaMin + (baseLrs[i] - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
    return out;
  }
}
