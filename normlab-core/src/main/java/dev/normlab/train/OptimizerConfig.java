package dev.normlab.train;

import dev.normlab.optim.Adam;
import dev.normlab.optim.AdamW;
import dev.normlab.optim.CosineAnnealingLR;
import dev.normlab.optim.LRScheduler;
import dev.normlab.optim.Optimizer;
import dev.normlab.optim.SGD;
import dev.normlab.optim.StepLR;
import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a training run updates its weights: the optimizer with its options, and the learning-rate
 * schedule stepped once per epoch, each as its {@code torch.optim} counterpart. Options of another
 * optimizer or schedule than the chosen one are ignored (and left out of {@link #toMap}).
 *
 * @param optimizer {@code sgd}, {@code adam} or {@code adamw}
 * @param lr the (initial) learning rate
 * @param momentum SGD's momentum
 * @param dampening SGD's dampening
 * @param nesterov SGD's Nesterov momentum (needs momentum > 0 and dampening 0)
 * @param weightDecay L2 penalty (SGD, Adam) or decoupled decay (AdamW)
 * @param beta1 Adam's first-moment decay
 * @param beta2 Adam's second-moment decay
 * @param eps Adam's denominator term
 * @param scheduler {@code none}, {@code step} (StepLR) or {@code cosine} (CosineAnnealingLR)
 * @param stepSize StepLR's period in epochs
 * @param gamma StepLR's factor
 * @param tMax CosineAnnealingLR's period in epochs (0 = the run's epochs)
 * @param etaMin CosineAnnealingLR's lowest lr
 */
public record OptimizerConfig(
    String optimizer,
    double lr,
    double momentum,
    double dampening,
    boolean nesterov,
    double weightDecay,
    double beta1,
    double beta2,
    double eps,
    String scheduler,
    int stepSize,
    double gamma,
    int tMax,
    double etaMin) {

  public static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw");
  public static final List<String> SCHEDULERS = List.of("none", "step", "cosine");

  public OptimizerConfig {
    optimizer = optimizer.toLowerCase(Locale.ROOT);
    scheduler = scheduler.toLowerCase(Locale.ROOT);
    checkNames(optimizer, scheduler);
    require(lr > 0, "lr must be > 0, got " + lr);
    require(Double.isFinite(lr), "lr must be finite, got " + lr);
    require(finiteAtLeast0(momentum), "momentum must be >= 0, got " + momentum);
    require(finiteAtLeast0(dampening), "dampening must be >= 0, got " + dampening);
    require(finiteAtLeast0(weightDecay), "weight decay must be >= 0, got " + weightDecay);
    require(
        !nesterov || (momentum > 0 && dampening == 0),
        "nesterov needs a momentum > 0 and dampening 0, got momentum "
            + momentum
            + ", dampening "
            + dampening);
    require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
    require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
    require(finiteAtLeast0(eps), "eps must be >= 0, got " + eps);
    require(stepSize >= 1, "step size must be >= 1, got " + stepSize);
    require(gamma > 0 && Double.isFinite(gamma), "gamma must be > 0, got " + gamma);
    require(tMax >= 0, "t-max must be >= 0, got " + tMax);
    require(finiteAtLeast0(etaMin), "eta-min must be >= 0, got " + etaMin);
  }

  /**
   * Refuses an optimizer or schedule name that is not one of {@link #OPTIMIZERS}/{@link
   * #SCHEDULERS}.
   */
  public static void checkNames(String optimizer, String scheduler) {
    require(
        OPTIMIZERS.contains(optimizer),
        "optimizer must be one of " + String.join(", ", OPTIMIZERS) + ", got '" + optimizer + "'");
    require(
        SCHEDULERS.contains(scheduler),
        "scheduler must be one of " + String.join(", ", SCHEDULERS) + ", got '" + scheduler + "'");
  }

  /** SGD without a schedule: the reference experiment's optimizer. */
  public static OptimizerConfig sgd(double lr, double momentum, double weightDecay) {
    return new OptimizerConfig(
        "sgd", lr, momentum, 0, false, weightDecay, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0);
  }

  /** Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, no weight decay), no schedule. */
  public static OptimizerConfig adam(double lr) {
    return new OptimizerConfig("adam", lr, 0, 0, false, 0, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0);
  }

  /** AdamW with PyTorch's betas and eps and the given decoupled weight decay, no schedule. */
  public static OptimizerConfig adamw(double lr, double weightDecay) {
    return new OptimizerConfig(
        "adamw", lr, 0, 0, false, weightDecay, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0);
  }

  /** This config with another learning rate. */
  public OptimizerConfig withLr(double v) {
    return with(v, scheduler, stepSize, gamma, tMax, etaMin);
  }

  /** This optimizer with StepLR: the lr times {@code gamma} every {@code stepSize} epochs. */
  public OptimizerConfig withStepSchedule(int stepSize, double gamma) {
    return with(lr, "step", stepSize, gamma, tMax, etaMin);
  }

  /**
   * This optimizer with CosineAnnealingLR down to {@code etaMin} over {@code tMax} epochs (0 = the
   * run's epochs).
   */
  public OptimizerConfig withCosineSchedule(int tMax, double etaMin) {
    return with(lr, "cosine", stepSize, gamma, tMax, etaMin);
  }

  /** This optimizer's options with another lr and schedule. */
  private OptimizerConfig with(
      double lr, String scheduler, int stepSize, double gamma, int tMax, double etaMin) {
    return new OptimizerConfig(
        optimizer,
        lr,
        momentum,
        dampening,
        nesterov,
        weightDecay,
        beta1,
        beta2,
        eps,
        scheduler,
        stepSize,
        gamma,
        tMax,
        etaMin);
  }

  /** The optimizer over {@code params}. */
  public Optimizer create(List<Tensor> params) {
    return switch (optimizer) {
      case "sgd" -> new SGD(params, lr, momentum, dampening, weightDecay, nesterov);
      case "adam" -> new Adam(params, lr, beta1, beta2, eps, weightDecay, false);
      case "adamw" -> new AdamW(params, lr, beta1, beta2, eps, weightDecay, false);
      default -> throw new IllegalStateException(optimizer); // the constructor checked it
    };
  }

  /** The per-epoch schedule of {@code opt} for a run of {@code epochs}, or null for none. */
  public LRScheduler schedule(Optimizer opt, int epochs) {
    return switch (scheduler) {
      case "none" -> null;
      case "step" -> new StepLR(opt, stepSize, gamma);
      case "cosine" -> new CosineAnnealingLR(opt, cosinePeriod(epochs), etaMin);
      default -> throw new IllegalStateException(scheduler);
    };
  }

  /**
   * A short description for the console, e.g. {@code sgd lr 0.01, momentum 0.9} or {@code adamw lr
   * 0.001, betas 0.9/0.999, weight decay 0.01, cosine schedule to 0 over 10 epochs}.
   */
  public String describe(int epochs) {
    StringBuilder sb = new StringBuilder(optimizer).append(" lr ").append(num(lr));
    if (optimizer.equals("sgd")) {
      sb.append(", momentum ").append(num(momentum));
      if (dampening != 0) {
        sb.append(", dampening ").append(num(dampening));
      }
      if (nesterov) {
        sb.append(", nesterov");
      }
    } else {
      sb.append(", betas ").append(num(beta1)).append('/').append(num(beta2));
      if (eps != 1e-8) {
        sb.append(", eps ").append(num(eps));
      }
    }
    if (weightDecay != 0) {
      sb.append(", weight decay ").append(num(weightDecay));
    }
    switch (scheduler) {
      case "step" ->
          sb.append(", lr x")
              .append(num(gamma))
              .append(" every ")
              .append(stepSize)
              .append(stepSize == 1 ? " epoch" : " epochs");
      case "cosine" ->
          sb.append(", cosine schedule to ")
              .append(num(etaMin))
              .append(" over ")
              .append(cosinePeriod(epochs))
              .append(" epochs");
      default -> {}
    }
    return sb.toString();
  }

  /** 0.01 rather than 0.010000000000000002, and 1e-05 as Java writes it. */
  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** CosineAnnealingLR's T_max for a run of {@code epochs}. */
  public int cosinePeriod(int epochs) {
    return tMax > 0 ? tMax : epochs;
  }

  /**
   * The options that shape this run, as flat keys for the run store and checkpoints: the chosen
   * optimizer's and schedule's only.
   */
  void putInto(Map<String, Object> m, int epochs) {
    m.put("optimizer", optimizer);
    m.put("lr", lr);
    if (optimizer.equals("sgd")) {
      m.put("momentum", momentum);
      m.put("dampening", dampening);
      m.put("nesterov", nesterov);
    } else {
      m.put("beta1", beta1);
      m.put("beta2", beta2);
      m.put("eps", eps);
    }
    m.put("weight_decay", weightDecay);
    m.put("scheduler", scheduler);
    if (scheduler.equals("step")) {
      m.put("step_size", stepSize);
      m.put("gamma", gamma);
    } else if (scheduler.equals("cosine")) {
      m.put("t_max", cosinePeriod(epochs));
      m.put("eta_min", etaMin);
    }
  }

  private static boolean finiteAtLeast0(double v) {
    return v >= 0 && Double.isFinite(v);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
