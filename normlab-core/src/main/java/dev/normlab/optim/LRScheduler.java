package dev.normlab.optim;

import java.util.List;

/**
 * Adjusts the learning rates of an optimizer's groups once per {@link #step()} (per epoch,
 * usually), as {@code torch.optim.lr_scheduler}. Construction performs PyTorch's initial step:
 * {@link #lastEpoch()} becomes 0 and each group's {@code initial_lr} option is set (if absent) to
 * its {@code lr}.
 *
 * <p>To resume, restore the optimizer's param groups (which hold the current {@code lr} and {@code
 * initial_lr}), build the scheduler, then call {@link #setLastEpoch(int)}.
 */
public abstract class LRScheduler {
  protected final Optimizer optimizer;
  protected final double[] baseLrs;
  private int lastEpoch;
  private double[] lastLr;

  protected LRScheduler(Optimizer optimizer) {
    this.optimizer = optimizer;
    List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
    baseLrs = new double[groups.size()];
    for (int i = 0; i < baseLrs.length; i++) {
      Optimizer.ParamGroup g = groups.get(i);
      if (!g.has("initial_lr")) {
        g.set("initial_lr", g.lr());
      }
      baseLrs[i] = g.get("initial_lr");
    }
    lastEpoch = -1;
  }

  /** Must be called by subclass constructors after their fields are set. */
  protected final void initialStep() {
    step();
  }

  /** Advances one epoch and sets each group's lr. */
  public void step() {
    lastEpoch++;
    double[] lrs = computeLr(lastEpoch);
    List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
    for (int i = 0; i < lrs.length; i++) {
      groups.get(i).setLr(lrs[i]);
    }
    lastLr = lrs;
  }

  /** The new lr of each group for {@code epoch}, from the groups' current lr (chainable form). */
  protected abstract double[] computeLr(int epoch);

  /** The lr of each group for {@code epoch} in closed form (for checks). */
  public abstract double[] closedFormLr(int epoch);

  public int lastEpoch() {
    return lastEpoch;
  }

  /** For resuming: the epoch count, with the optimizer's groups already restored. */
  public void setLastEpoch(int epoch) {
    lastEpoch = epoch;
    List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
    lastLr = new double[groups.size()];
    for (int i = 0; i < lastLr.length; i++) {
      lastLr[i] = groups.get(i).lr();
    }
  }

  /** The lrs set by the last step, like {@code get_last_lr()}. */
  public double[] lastLr() {
    return lastLr.clone();
  }

  public double[] baseLrs() {
    return baseLrs.clone();
  }

  protected double groupLr(int i) {
    return optimizer.paramGroups().get(i).lr();
  }
}
