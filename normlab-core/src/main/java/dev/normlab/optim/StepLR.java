package dev.normlab.optim;

/** Multiplies the lr by {@code gamma} every {@code stepSize} epochs, as {@code StepLR}. */
public final class StepLR extends LRScheduler {
  private final int stepSize;
  private final double gamma;

  public StepLR(Optimizer optimizer, int stepSize, double gamma) {
    super(optimizer);
    if (stepSize <= 0) {
      throw new IllegalArgumentException("step_size must be positive, got " + stepSize);
    }
    this.stepSize = stepSize;
    this.gamma = gamma;
    initialStep();
  }

  public StepLR(Optimizer optimizer, int stepSize) {
    this(optimizer, stepSize, 0.1);
  }

  @Override
  protected double[] computeLr(int epoch) {
    double[] out = new double[baseLrs.length];
    for (int i = 0; i < out.length; i++) {
      double lr = groupLr(i);
      out[i] = (epoch == 0 || epoch % stepSize != 0) ? lr : lr * gamma;
    }
    return out;
  }

  @Override
  public double[] closedFormLr(int epoch) {
    double[] out = new double[baseLrs.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = baseLrs[i] * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
    }
    return out;
  }
}
