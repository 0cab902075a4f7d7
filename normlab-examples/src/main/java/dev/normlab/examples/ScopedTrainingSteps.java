package dev.normlab.examples;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.kernels.BufferScope;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A hand-written training loop that runs every step in a {@link BufferScope}, so that the ops'
 * outputs are reused from one step to the next instead of allocated fresh (what the trainer does).
 */
public final class ScopedTrainingSteps {
  private ScopedTrainingSteps() {}

  /** Mean training loss of one pass over the first {@code limitTrain} MNIST images. */
  public static double run(Path dataDir, int limitTrain) throws IOException {
    Dataset train =
        Datasets.builder()
            .dataDir(dataDir)
            .build()
            .loadSplit(MnistLike.MNIST, true)
            .head(limitTrain);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.GROUP, new Rng(0));
    SGD opt = new SGD(model.parameters(), 0.01, 0.9);
    double lossSum = 0;
    int steps = 0;
    try (DataLoader loader =
        DataLoader.builder(train)
            .batchSize(64)
            .shuffle(true)
            .seed(0)
            .transform(Transforms.standard(MnistLike.MNIST))
            .build()) {
      // doc:buffer-scope begin
      for (DataLoader.Batch b : loader) {
        try (var step = BufferScope.open()) {
          opt.zeroGradRecycling(); // zeroGrad(), and the old gradients go to the pool too
          Tensor loss = F.crossEntropy(model.forward(b.images()), b.labels());
          double l = loss.item(); // read what you need inside the scope...
          loss.backward();
          opt.step();
          lossSum += l;
          steps++;
        } // ...tensors made inside are reused after this line
      }
      // doc:buffer-scope end
    }
    return lossSum / steps;
  }

  public static void main(String[] args) throws IOException {
    System.out.printf("mean loss %.4f%n", run(args.length > 0 ? Path.of(args[0]) : null, 2000));
  }
}
