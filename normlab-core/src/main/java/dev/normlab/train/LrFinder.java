package dev.normlab.train;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Parallel;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.Module;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.Optimizer;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks",
 * 2017; fastai's and PyTorch Lightning's {@code lr_find}): train a fresh model for a few hundred
 * steps while the lr grows exponentially from {@code startLr} to {@code endLr}, one value per step,
 * and watch the training loss fall, flatten and blow up. The lr where it falls fastest, or a tenth
 * of where it is lowest, is a good lr to train with; where it blows up is the edge of stability —
 * which the normalization layers move.
 *
 * <p>{@link #run()} tests the reference CNN: its model, data order, optimizer (its momentum etc.;
 * its lr is the test's) and threads come from a {@link TrainConfig}, as a training run's would;
 * nothing is checkpointed or evaluated. {@link #search} tests a model of one's own and leaves it as
 * it was.
 */
public final class LrFinder {
  /** The loss smoothing of fastai and torch-lr-finder (an exponential moving average). */
  public static final double SMOOTHING = 0.98;

  /**
   * @param startLr the first step's lr
   * @param endLr the last step's lr
   * @param steps how many steps, one lr each, from startLr to endLr exponentially
   * @param divergeFactor stop once the smoothed loss exceeds this many times its lowest
   */
  public record Options(double startLr, double endLr, int steps, double divergeFactor) {
    public Options {
      if (!(startLr > 0) || !(endLr > startLr)) {
        throw new IllegalArgumentException(
            "the lr range must be 0 < start < end, got " + startLr + " to " + endLr);
      }
      if (steps < 10) {
        throw new IllegalArgumentException("the range test needs >= 10 steps, got " + steps);
      }
      if (!(divergeFactor > 1)) {
        throw new IllegalArgumentException("divergeFactor must be > 1, got " + divergeFactor);
      }
    }

    /** 1e-6 to 10 over 200 steps, stopping at 4x the lowest smoothed loss. */
    public static Options defaults() {
      return new Options(1e-6, 10, 200, 4);
    }

    /** The lr of step {@code i} (0-based). */
    public double lr(int i) {
      return startLr * Math.pow(endLr / startLr, i / (double) (steps - 1));
    }
  }

  /** One step: its lr, its batch's loss and the smoothed loss (debiased moving average). */
  public record Point(long step, double lr, double loss, double smoothedLoss) {}

  /**
   * The test's curve and what it suggests.
   *
   * @param minLossLr the lr where the smoothed loss was lowest
   * @param steepestLr the lr where the smoothed loss fell fastest per decade of lr, before its
   *     lowest point (the first tenth of the points left out: the average is still settling there);
   *     NaN when it never fell
   * @param divergedLr the lr at which the smoothed loss passed divergeFactor times its lowest (or
   *     the loss became NaN/Inf), NaN when it never did
   */
  public record Result(List<Point> points, double minLossLr, double steepestLr, double divergedLr) {
    /** A tenth of {@link #minLossLr}: the classic rule's lr to train with. */
    public double suggestedLr() {
      return minLossLr / 10;
    }

    /** The result's numbers as metrics: {@code lr_find/...}. */
    public Map<String, Double> metrics() {
      return Map.of(
          "lr_find/min_loss_lr", minLossLr,
          "lr_find/suggested_lr", suggestedLr(),
          "lr_find/steepest_lr", steepestLr,
          "lr_find/diverged_lr", divergedLr);
    }
  }

  private final TrainConfig config;
  private final Options options;
  private final TrainingListener listener;
  private final Datasets datasets;

  public LrFinder(TrainConfig config, Options options, TrainingListener listener) {
    this(config, options, listener, Datasets.builder().dataDir(config.dataDir()).build());
  }

  public LrFinder(
      TrainConfig config, Options options, TrainingListener listener, Datasets datasets) {
    this.config = config;
    this.options = options;
    this.listener = listener == null ? new TrainingListener() {} : listener;
    this.datasets = datasets;
  }

  /**
   * Runs the test. The listener hears {@code onStart}, {@code onStep} for each step (with its lr),
   * {@code onMetrics} with {@code lr_find/smoothed_loss} each step and the result's {@code
   * lr_find/...} numbers at the last, then {@code onFinish} (or {@code onFailure}).
   */
  public Result run() throws IOException {
    try {
      return doRun();
    } catch (IOException | RuntimeException | Error e) {
      listener.onFailure(e);
      throw e;
    }
  }

  private Result doRun() throws IOException {
    Parallel.setThreads(config.threads());
    MnistLike which = MnistLike.parse(config.dataset());
    Dataset train = datasets.loadSplit(which, true);
    if (config.limitTrain() > 0 && config.limitTrain() < train.size()) {
      train = train.head(config.limitTrain());
    }
    Rng rng = new Rng(config.seed());
    ReferenceCnn model =
        new ReferenceCnn(ReferenceCnn.Norm.parse(config.norm()), config.groups(), rng);
    Optimizer opt = config.optim().create(model.parameters());
    long t0 = System.nanoTime();
    Result r;
    try (DataLoader loader = Trainer.trainLoader(config, train, which)) {
      listener.onStart(config, options.steps());
      r = sweep(model, opt, loader, F::crossEntropy, options, listener);
    }
    listener.onMetrics(r.points().get(r.points().size() - 1).step(), r.metrics());
    listener.onFinish(
        new TrainResult(config, List.of(), (System.nanoTime() - t0) / 1e9, null, null));
    return r;
  }

  /**
   * The range test on a model of one's own, as torch-lr-finder's {@code range_test}: {@code model}
   * trained with {@code opt} on {@code batches} (a {@link DataLoader}, or any iterable of batches,
   * gone through again while the steps last), the lr of {@code opt}'s groups set step by step.
   * Afterwards the model's parameters and buffers, its train/eval mode, the optimizer's state and
   * its groups' lr are what they were before, as after torch-lr-finder's {@code reset()} (random
   * generators the model draws from, such as its dropout's, have moved on, as after any forward).
   * {@code listener} (may be null) hears {@code onStep} and {@code onMetrics} of each step.
   */
  public static Result search(
      Module model,
      Optimizer opt,
      Iterable<DataLoader.Batch> batches,
      BiFunction<Tensor, Tensor, Tensor> loss,
      Options options,
      TrainingListener listener) {
    Map<String, Tensor> weights = new LinkedHashMap<>();
    for (var e : model.stateDict().entrySet()) {
      weights.put(e.getKey(), e.getValue().copy());
    }
    Map<String, Tensor> state = opt.state();
    String groups = opt.paramGroupsJson();
    boolean training = model.isTraining();
    try {
      return sweep(
          model,
          opt,
          batches,
          loss,
          options,
          listener == null ? new TrainingListener() {} : listener);
    } finally {
      model.loadStateDict(weights, true);
      opt.loadState(state);
      opt.loadParamGroupsJson(groups);
      model.train(training);
    }
  }

  /** The test's steps: one lr each, until the last or the loss blows up. */
  private static Result sweep(
      Module model,
      Optimizer opt,
      Iterable<DataLoader.Batch> batches,
      BiFunction<Tensor, Tensor, Tensor> lossFn,
      Options options,
      TrainingListener listener) {
    List<Point> points = new ArrayList<>();
    double average = 0;
    double lowest = Double.POSITIVE_INFINITY;
    double diverged = Double.NaN;
    long t0 = System.nanoTime();
    long images = 0;
    model.train();
    int i = 0;
    int epoch = 0;
    while (i < options.steps() && Double.isNaN(diverged)) {
      epoch++;
      boolean any = false;
      for (DataLoader.Batch b : batches) {
        any = true;
        double lr = options.lr(i);
        for (Optimizer.ParamGroup g : opt.paramGroups()) {
          g.setLr(lr);
        }
        double loss;
        try (var buffers = BufferScope.open()) {
          opt.zeroGradRecycling();
          Tensor l = lossFn.apply(model.forward(b.images()), b.labels());
          loss = l.item();
          if (Double.isFinite(loss)) {
            l.backward();
            opt.step();
          }
        }
        images += b.size();
        long step = i + 1;
        double secs = (System.nanoTime() - t0) / 1e9;
        listener.onStep(step, epoch, loss, lr, images / Math.max(secs, 1e-9));
        average = SMOOTHING * average + (1 - SMOOTHING) * loss;
        double smoothed = average / (1 - Math.pow(SMOOTHING, step));
        points.add(new Point(step, lr, loss, smoothed));
        listener.onMetrics(step, Map.of("lr_find/smoothed_loss", smoothed));
        lowest = Math.min(lowest, smoothed);
        i++;
        if (!Double.isFinite(smoothed) || smoothed > options.divergeFactor() * lowest) {
          diverged = lr;
          break;
        }
        if (i == options.steps()) {
          break;
        }
      }
      if (!any) {
        throw new IllegalArgumentException("the range test's batches are empty");
      }
    }
    return analyse(points, diverged);
  }

  /** The lowest smoothed loss's lr and the steepest descent's, from the test's points. */
  static Result analyse(List<Point> points, double divergedLr) {
    int min = 0;
    for (int i = 1; i < points.size(); i++) {
      double s = points.get(i).smoothedLoss();
      if (Double.isFinite(s) && s < points.get(min).smoothedLoss()) {
        min = i;
      }
    }
    // central differences in log lr, from a tenth of the points up to the lowest one
    int from = Math.max(1, points.size() / 10);
    double steepest = Double.NaN;
    double best = 0;
    for (int i = from; i < min; i++) {
      Point a = points.get(i - 1);
      Point c = points.get(i + 1);
      double slope =
          (c.smoothedLoss() - a.smoothedLoss()) / (Math.log10(c.lr()) - Math.log10(a.lr()));
      if (slope < best) {
        best = slope;
        steepest = points.get(i).lr();
      }
    }
    return new Result(List.copyOf(points), points.get(min).lr(), steepest, divergedLr);
  }
}
