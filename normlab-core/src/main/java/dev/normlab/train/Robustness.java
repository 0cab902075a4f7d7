package dev.normlab.train;

import dev.normlab.autograd.GradMode;
import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.kernels.NormKernels;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.Module;
import dev.normlab.nn.norm.BatchNormBase;
import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A trained model's test accuracy and loss on the clean test set and under each {@link InputShift}
 * — how each norm takes inputs whose intensities differ from its training data (in the spirit of
 * MNIST-C and ImageNet-C, with the shifts a norm's arithmetic speaks to).
 */
public final class Robustness {
  private Robustness() {}

  /**
   * One shift's evaluation, and its predictions with the shifted images when they were asked for
   * (else null).
   */
  public record Result(InputShift shift, Trainer.Evaluation evaluation, Predictions predictions) {}

  /**
   * Evaluates {@code model} on {@code test} (raw 0..255 pixels, as loaded) once clean and once per
   * shift, each shift applied to pixels in [0, 1] before {@code which}'s mean/std normalization.
   * The clean evaluation comes first whether or not {@code shifts} names it. {@code seed} seeds the
   * noise (the same seed draws the same noise for every model).
   */
  public static List<Result> evaluate(
      ReferenceCnn model, Dataset test, MnistLike which, List<InputShift> shifts, long seed) {
    return evaluate(model, test, which, shifts, seed, false, false, r -> {});
  }

  /**
   * The same; with {@code adaptBatchNorm}, a Batch Norm model's running statistics are first
   * re-estimated on the shifted test images themselves (see below); {@code onResult} hears each
   * result as soon as it is known.
   */
  public static List<Result> evaluate(
      ReferenceCnn model,
      Dataset test,
      MnistLike which,
      List<InputShift> shifts,
      long seed,
      boolean adaptBatchNorm,
      Consumer<Result> onResult) {
    return evaluate(model, test, which, shifts, seed, adaptBatchNorm, false, onResult);
  }

  /**
   * The same; with {@code adaptBatchNorm}, a Batch Norm model's running statistics are first
   * re-estimated on the shifted test images themselves (no labels; "AdaBN", Li et al. 2016) and put
   * back afterwards; with {@code predictions} each result carries every test image's prediction and
   * the image as the model saw it; {@code onResult} hears each result as soon as it is known.
   */
  public static List<Result> evaluate(
      ReferenceCnn model,
      Dataset test,
      MnistLike which,
      List<InputShift> shifts,
      long seed,
      boolean adaptBatchNorm,
      boolean predictions,
      Consumer<Result> onResult) {
    List<InputShift> all = new ArrayList<>();
    all.add(InputShift.CLEAN);
    for (InputShift s : shifts) {
      if (!all.contains(s)) {
        all.add(s);
      }
    }
    boolean adapt = adaptBatchNorm && model.norm() == ReferenceCnn.Norm.BATCH;
    List<float[]> trained = new ArrayList<>(); // the running statistics, put back at the end
    for (BatchNormBase bn : adapt ? batchNorms(model) : List.<BatchNormBase>of()) {
      trained.add(bn.runningMean().data().clone());
      trained.add(bn.runningVar().data().clone());
    }
    List<Result> out = new ArrayList<>();
    try {
      for (InputShift s : all) {
        if (adapt) {
          adaptBatchNorm(model, test, which, s, seed);
        }
        Result r = evaluateOne(model, test, which, s, seed, predictions);
        out.add(r);
        onResult.accept(r);
      }
    } finally {
      int i = 0;
      for (BatchNormBase bn : adapt ? batchNorms(model) : List.<BatchNormBase>of()) {
        System.arraycopy(trained.get(i++), 0, bn.runningMean().data(), 0, bn.numFeatures());
        System.arraycopy(trained.get(i++), 0, bn.runningVar().data(), 0, bn.numFeatures());
      }
    }
    return out;
  }

  private static Result evaluateOne(
      ReferenceCnn model,
      Dataset test,
      MnistLike which,
      InputShift s,
      long seed,
      boolean predictions) {
    Predictions.Builder sink =
        predictions
            ? Predictions.Builder.ofInputs(
                test,
                which.classes().toArray(String[]::new),
                (float) which.mean(),
                (float) which.std())
            : null;
    try (DataLoader l = loader(test, which, s, seed)) {
      Trainer.Evaluation e = Trainer.evaluate(model, l, test.numClasses(), sink);
      return new Result(s, e, sink == null ? null : sink.build());
    }
  }

  /** The test images, shifted, in fixed order; the same noise for the same seed. */
  private static DataLoader loader(Dataset test, MnistLike which, InputShift s, long seed) {
    return DataLoader.builder(test)
        .batchSize(256)
        .shuffle(false)
        .seed(seed)
        .transform(
            Transforms.compose(
                Transforms.toUnit(),
                s.transform(),
                Transforms.normalize(which.mean(), which.std())))
        .build();
  }

  /** The reference CNN's Batch Norms, norm1 then norm2 (none for the other norms). */
  private static List<BatchNormBase> batchNorms(ReferenceCnn model) {
    List<BatchNormBase> out = new ArrayList<>();
    for (String name : List.of("norm1", "norm2")) {
      Module m = model.namedChildren().get(name);
      if (m instanceof BatchNormBase bn) {
        out.add(bn);
      }
    }
    return out;
  }

  /**
   * Sets each Batch Norm's running mean and variance to its input's per-channel mean and unbiased
   * variance over all of {@code test}, shifted by {@code s}: norm1's from one pass, then norm2's
   * from a second pass that already normalizes with norm1's new statistics — what eval mode would
   * have used had these been the training images. Each batch's statistics are Batch Norm's own
   * training-mode ones (its kernel, in double), merged exactly across batches (Chan et al.).
   */
  static void adaptBatchNorm(
      ReferenceCnn model, Dataset test, MnistLike which, InputShift s, long seed) {
    List<BatchNormBase> norms = batchNorms(model);
    String[] inputs = {"conv1", "conv2"}; // what norm1 and norm2 see
    model.eval();
    for (int k = 0; k < norms.size(); k++) {
      BatchNormBase bn = norms.get(k);
      String point = inputs[k];
      ChannelStats stats = new ChannelStats(bn.numFeatures());
      try (DataLoader l = loader(test, which, s, seed);
          var g = GradMode.noGrad()) {
        for (DataLoader.Batch b : l) {
          model.forward(
              b.images(),
              (p, x, beforeRelu) -> {
                if (p.equals(point)) {
                  stats.add(x);
                }
              });
        }
      }
      float[] rm = bn.runningMean().data();
      float[] rv = bn.runningVar().data();
      for (int ch = 0; ch < rm.length; ch++) {
        rm[ch] = (float) stats.mean[ch];
        rv[ch] = (float) (stats.m2[ch] / Math.max(1, stats.count - 1));
      }
    }
    model.train();
  }

  /** Per-channel count, mean and sum of squared deviations of (N, C, H, W) batches, merged. */
  private static final class ChannelStats {
    final double[] mean;
    final double[] m2;
    double count;
    private final double[] batchMean;
    private final double[] batchVar;
    private final double[] batchRstd;
    private float[] scratch = new float[0]; // the kernel's normalized output, not used

    ChannelStats(int c) {
      mean = new double[c];
      m2 = new double[c];
      batchMean = new double[c];
      batchVar = new double[c];
      batchRstd = new double[c];
    }

    void add(Tensor x) {
      int n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
      float[] d = x.data();
      if (scratch.length < d.length) {
        scratch = new float[d.length];
      }
      NormKernels.batchNormForward(
          d, scratch, n, c, hw, null, null, 0, true, batchMean, batchVar, batchRstd);
      double nb = (double) n * hw;
      double total = count + nb;
      for (int ch = 0; ch < c; ch++) {
        double delta = batchMean[ch] - mean[ch];
        mean[ch] += delta * nb / total;
        m2[ch] += batchVar[ch] * nb + delta * delta * count * nb / total;
      }
      count = total;
    }
  }
}
