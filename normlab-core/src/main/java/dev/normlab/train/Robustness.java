package dev.normlab.train;

import dev.normlab.autograd.GradMode;
import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
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

  /** One shift's evaluation. */
  public record Result(InputShift shift, Trainer.Evaluation evaluation) {}

  /**
   * Evaluates {@code model} on {@code test} (raw 0..255 pixels, as loaded) once clean and once per
   * shift, each shift applied to pixels in [0, 1] before {@code which}'s mean/std normalization.
   * The clean evaluation comes first whether or not {@code shifts} names it. {@code seed} seeds the
   * noise (the same seed draws the same noise for every model).
   */
  public static List<Result> evaluate(
      ReferenceCnn model, Dataset test, MnistLike which, List<InputShift> shifts, long seed) {
    return evaluate(model, test, which, shifts, seed, false, r -> {});
  }

  /**
   * The same; with {@code adaptBatchNorm}, a Batch Norm model's running statistics are first
   * re-estimated on the shifted test images themselves (no labels; "AdaBN", Li et al. 2016) and put
   * back afterwards; {@code onResult} hears each result as soon as it is known.
   */
  public static List<Result> evaluate(
      ReferenceCnn model,
      Dataset test,
      MnistLike which,
      List<InputShift> shifts,
      long seed,
      boolean adaptBatchNorm,
      Consumer<Result> onResult) {
    List<InputShift> all = new ArrayList<>();
    all.add(InputShift.CLEAN);
    for (InputShift s : shifts) {
      if (!all.contains(s)) {
        all.add(s);
      }
    }
    List<Result> out = new ArrayList<>();
    for (InputShift s : all) {
      Result r;
      if (adaptBatchNorm && model.norm() == ReferenceCnn.Norm.BATCH) {
        List<float[]> saved = new ArrayList<>();
        for (BatchNormBase bn : batchNorms(model)) {
          saved.add(bn.runningMean().data().clone());
          saved.add(bn.runningVar().data().clone());
        }
        try {
          adaptBatchNorm(model, test, which, s, seed);
          r = evaluateOne(model, test, which, s, seed);
        } finally {
          int i = 0;
          for (BatchNormBase bn : batchNorms(model)) {
            System.arraycopy(saved.get(i++), 0, bn.runningMean().data(), 0, bn.numFeatures());
            System.arraycopy(saved.get(i++), 0, bn.runningVar().data(), 0, bn.numFeatures());
          }
        }
      } else {
        r = evaluateOne(model, test, which, s, seed);
      }
      out.add(r);
      onResult.accept(r);
    }
    return out;
  }

  private static Result evaluateOne(
      ReferenceCnn model, Dataset test, MnistLike which, InputShift s, long seed) {
    try (DataLoader l = loader(test, which, s, seed)) {
      return new Result(s, Trainer.evaluate(model, l, test.numClasses(), null));
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
   * have used had these been the training images. The sums are in double, batch by batch two-pass
   * and merged exactly (Chan et al.).
   */
  static void adaptBatchNorm(
      ReferenceCnn model, Dataset test, MnistLike which, InputShift s, long seed) {
    List<BatchNormBase> norms = batchNorms(model);
    String[] inputs = {"conv1", "conv2"}; // what norm1 and norm2 see
    model.eval();
    for (int k = 0; k < norms.size(); k++) {
      BatchNormBase bn = norms.get(k);
      String point = inputs[k];
      int c = bn.numFeatures();
      double[] count = {0};
      double[] mean = new double[c];
      double[] m2 = new double[c];
      try (DataLoader l = loader(test, which, s, seed);
          var g = GradMode.noGrad()) {
        for (DataLoader.Batch b : l) {
          model.forward(
              b.images(),
              (p, x, beforeRelu) -> {
                if (p.equals(point)) {
                  merge(x, count, mean, m2);
                }
              });
        }
      }
      float[] rm = bn.runningMean().data();
      float[] rv = bn.runningVar().data();
      for (int ch = 0; ch < c; ch++) {
        rm[ch] = (float) mean[ch];
        rv[ch] = (float) (m2[ch] / Math.max(1, count[0] - 1));
      }
    }
    model.train();
  }

  /**
   * Folds an (N, C, H, W) batch's per-channel mean and squared deviations into the running ones.
   */
  private static void merge(Tensor x, double[] count, double[] mean, double[] m2) {
    int n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
    float[] d = x.data();
    double nb = (double) n * hw;
    for (int ch = 0; ch < c; ch++) {
      double sum = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0, off = (i * c + ch) * hw; j < hw; j++) {
          sum += d[off + j];
        }
      }
      double mb = sum / nb;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0, off = (i * c + ch) * hw; j < hw; j++) {
          double e = d[off + j] - mb;
          ss += e * e;
        }
      }
      double na = count[0];
      double delta = mb - mean[ch];
      double total = na + nb;
      mean[ch] += delta * nb / total;
      m2[ch] += ss + delta * delta * na * nb / total;
    }
    count[0] += nb;
  }
}
