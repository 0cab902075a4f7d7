package dev.normlab.examples;

import dev.normlab.nn.Activation;
import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.Conv2d;
import dev.normlab.nn.Flatten;
import dev.normlab.nn.Linear;
import dev.normlab.nn.MaxPool2d;
import dev.normlab.nn.Module;
import dev.normlab.nn.Sequential;
import dev.normlab.nn.functional.F;
import dev.normlab.nn.norm.GroupNorm;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;

/**
 * A custom model with GroupNorm, built from {@link Module} and {@link Sequential}, trained on a
 * synthetic task: is the bright stripe in the top or the bottom half of a noisy 12 x 12 image?
 */
public final class CustomGroupNormModel {
  private CustomGroupNormModel() {}

  // doc:custom-model begin
  /** conv -> GroupNorm -> ReLU, twice, then max-pool and a linear classifier. */
  public static final class GroupNormNet extends Module {
    private final Sequential features;
    private final Linear classifier;

    public GroupNormNet(int groups, Rng rng) {
      features =
          registerModule(
              "features",
              new Sequential(
                  new Conv2d(1, 16, 3, rng), // 12x12 -> 10x10
                  new GroupNorm(groups, 16),
                  Activation.relu(),
                  new Conv2d(16, 32, 3, rng), // -> 8x8
                  new GroupNorm(groups, 32),
                  Activation.relu(),
                  new MaxPool2d(2), // -> 4x4
                  new Flatten()));
      classifier = registerModule("classifier", new Linear(32 * 4 * 4, 2, true, rng));
    }

    @Override
    public Tensor forward(Tensor x) {
      return classifier.forward(features.forward(x));
    }

    /** The same, showing a probe (--watch's) each layer's output: features.0, ..., classifier. */
    @Override
    public Tensor forward(Tensor x, ActivationProbe probe) {
      Tensor logits = classifier.forward(features.forward(x, probe.nested("features")));
      probe.observe("classifier", logits, false);
      return logits;
    }
  }

  // doc:custom-model end

  /** The first and last training losses, the state-dict keys and the final accuracy. */
  public record Result(
      double firstLoss, double lastLoss, List<String> stateDictKeys, double accuracy) {}

  public static Result run(int steps) {
    Rng rng = new Rng(0);
    // doc:custom-train begin
    GroupNormNet model = new GroupNormNet(4, rng); // 4 groups of 4 and of 8 channels
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    System.out.println(model); // PyTorch-style repr
    System.out.println(model.stateDict().keySet()); // features.1.weight, ... as in PyTorch
    double firstLoss = Double.NaN, lastLoss = Double.NaN;
    for (int step = 1; step <= steps; step++) {
      Tensor[] batch = stripes(rng, 32); // images (32, 1, 12, 12), labels (32)
      opt.zeroGrad();
      Tensor loss = F.crossEntropy(model.forward(batch[0]), batch[1]);
      loss.backward();
      opt.step();
      lastLoss = loss.item();
      firstLoss = step == 1 ? lastLoss : firstLoss;
    }
    System.out.printf("loss: first step %.4f, last step %.4f%n", firstLoss, lastLoss);
    // doc:custom-train end
    model.eval();
    Tensor[] test = stripes(rng, 200);
    float[] logits = model.forward(test[0]).data();
    float[] labels = test[1].data();
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      int predicted = logits[2 * i + 1] > logits[2 * i] ? 1 : 0;
      correct += predicted == (int) labels[i] ? 1 : 0;
    }
    double accuracy = 100.0 * correct / labels.length;
    System.out.printf("accuracy on 200 fresh images: %.1f%%%n", accuracy);
    return new Result(firstLoss, lastLoss, List.copyOf(model.stateDict().keySet()), accuracy);
  }

  /** n noisy 12 x 12 images with a bright row in the top (label 0) or bottom (label 1) half. */
  static Tensor[] stripes(Rng rng, int n) {
    float[] noise = Tensor.randn(rng, n, 1, 12, 12).toArray();
    int[] labels = new int[n];
    float[] rows = Tensor.rand(rng, n).toArray();
    for (int i = 0; i < n; i++) {
      labels[i] = rows[i] < 0.5f ? 0 : 1;
      int row = (int) (rows[i] * 12); // top half -> label 0, bottom half -> label 1
      for (int c = 0; c < 12; c++) {
        noise[i * 144 + row * 12 + c] += 3f;
      }
    }
    return new Tensor[] {Tensor.of(noise, n, 1, 12, 12), Tensor.ofInts(labels, n)};
  }

  public static void main(String[] args) {
    run(80);
  }
}
