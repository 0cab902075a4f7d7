package dev.normlab.train;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.models.ReferenceCnn;
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
    return evaluate(model, test, which, shifts, seed, r -> {});
  }

  /** The same, telling {@code onResult} each result as soon as it is known. */
  public static List<Result> evaluate(
      ReferenceCnn model,
      Dataset test,
      MnistLike which,
      List<InputShift> shifts,
      long seed,
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
      try (DataLoader l =
          DataLoader.builder(test)
              .batchSize(256)
              .shuffle(false)
              .seed(seed)
              .transform(
                  Transforms.compose(
                      Transforms.toUnit(),
                      s.transform(),
                      Transforms.normalize(which.mean(), which.std())))
              .build()) {
        Result r = new Result(s, Trainer.evaluate(model, l, test.numClasses(), null));
        out.add(r);
        onResult.accept(r);
      }
    }
    return out;
  }
}
