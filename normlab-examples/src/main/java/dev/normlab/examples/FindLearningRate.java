package dev.normlab.examples;

import dev.normlab.data.DataLoader;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.LrFinder;
import java.util.stream.Stream;

/**
 * The learning-rate range test on a model of one's own ({@link CustomGroupNormModel.GroupNormNet}),
 * whose suggestion then sets the optimizer's lr.
 */
public final class FindLearningRate {
  private FindLearningRate() {}

  /** The test over {@code steps} steps; the optimizer it leaves behind trains at its suggestion. */
  public static LrFinder.Result find(int steps) {
    Rng rng = new Rng(0);
    // doc:lr-find-own-model begin
    CustomGroupNormModel.GroupNormNet model = new CustomGroupNormModel.GroupNormNet(4, rng);
    SGD opt = new SGD(model.parameters(), 0.01, 0.9);
    Iterable<DataLoader.Batch> batches = // a DataLoader, or batches made on the fly
        () ->
            Stream.generate(
                    () -> {
                      Tensor[] b = CustomGroupNormModel.stripes(rng, 32);
                      return new DataLoader.Batch(b[0], b[1], null);
                    })
                .iterator();
    LrFinder.Result r =
        LrFinder.search(
            model, opt, batches, F::crossEntropy, new LrFinder.Options(1e-5, 10, steps, 4), null);
    System.out.printf("lowest loss at lr %.3g: train at %.3g%n", r.minLossLr(), r.suggestedLr());
    // the weights and the optimizer's state are as before the test: train at its suggestion
    opt.paramGroups().get(0).setLr(r.suggestedLr());
    // doc:lr-find-own-model end
    return r;
  }

  public static void main(String[] args) {
    find(args.length > 0 ? Integer.parseInt(args[0]) : 100);
  }
}
