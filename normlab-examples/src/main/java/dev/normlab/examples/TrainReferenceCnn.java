package dev.normlab.examples;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.kernels.Parallel;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.Augmentation;
import dev.normlab.train.OptimizerConfig;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Training the reference CNN from Java code instead of the CLI: first with a hand-written loop
 * (what {@code Trainer} does inside), then with {@link Trainer} itself.
 *
 * <p>Usage: {@code TrainReferenceCnn [dataDir] [limitTrain] [limitTest]}; the data directory holds
 * {@code mnist/*-ubyte.gz} (default: the usual search, e.g. {@code ../shared/datasets}).
 */
public final class TrainReferenceCnn {
  private TrainReferenceCnn() {}

  /** Test accuracy (%) and mean training loss of one epoch. */
  public record Result(double testAccuracy, double meanTrainLoss) {}

  /** One epoch of the reference experiment on the first {@code limitTrain} MNIST images. */
  public static Result handWritten(Path dataDir, int limitTrain, int limitTest) throws IOException {
    // doc:train-loop begin
    Parallel.setThreads(1); // kernel threads (default: all cores)
    Datasets datasets = Datasets.builder().dataDir(dataDir).build(); // null dataDir: default search
    Dataset train = datasets.loadSplit(MnistLike.MNIST, true).head(limitTrain);
    Dataset test = datasets.loadSplit(MnistLike.MNIST, false).head(limitTest);

    Rng rng = new Rng(0);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.INSTANCE, rng); // or BATCH, GROUP, ...
    SGD opt = new SGD(model.parameters(), 0.01, 0.9); // lr 0.01, momentum 0.9
    double lossSum = 0;
    int steps = 0;
    try (DataLoader loader =
        DataLoader.builder(train)
            .batchSize(64)
            .shuffle(true)
            .seed(0)
            .transform(
                Transforms.standard(MnistLike.MNIST)) // to [0, 1], then (x - 0.1307) / 0.3081
            .build()) {
      model.train();
      for (DataLoader.Batch b : loader) {
        opt.zeroGrad();
        Tensor loss = F.crossEntropy(model.forward(b.images()), b.labels());
        loss.backward();
        opt.step();
        lossSum += loss.item();
        steps++;
      }
    }
    try (DataLoader testLoader =
        DataLoader.builder(test)
            .batchSize(256)
            .transform(Transforms.standard(MnistLike.MNIST))
            .build()) {
      Trainer.Evaluation ev = Trainer.evaluate(model, testLoader, 10, null); // eval mode, no tape
      System.out.printf(
          "train loss %.4f  test loss %.4f  test accuracy %.2f%%%n",
          lossSum / steps, ev.loss(), ev.accuracy());
      // doc:train-loop end
      return new Result(ev.accuracy(), lossSum / steps);
    }
  }

  /** The same with {@link Trainer}: checkpoints, evaluation after every epoch, listeners. */
  public static TrainResult withTrainer(Path dataDir, int limitTrain, int limitTest, Path out)
      throws IOException {
    // doc:trainer begin
    TrainConfig config =
        new TrainConfig(
            "mnist", // dataset: mnist, fashion-mnist or kmnist
            "group", // norm: none, batch, instance, layer or group
            8, // GroupNorm groups
            1, // epochs
            0.01, // lr
            0.9, // momentum
            0.0, // weight decay
            64, // batch size
            0, // seed
            1, // threads
            dataDir, // null: default search
            limitTrain, // 0: all 60,000 images
            limitTest, // 0: all 10,000 images
            out, // checkpoint directory (last.safetensors, best.safetensors)
            false); // resume
    TrainResult result = new Trainer(config, null).run(); // null: no listener
    System.out.printf(
        "%s: test accuracy %.2f%%, best checkpoint %s%n",
        config.norm(), result.last().testAccuracy(), result.bestCheckpoint());
    // doc:trainer end
    return result;
  }

  /** Another optimizer, a schedule and augmentation for the same run: one call each. */
  public static TrainConfig withAdamWCosineAndCrops(TrainConfig config) {
    // doc:trainer-options begin
    TrainConfig adamw =
        config
            .withOptim(OptimizerConfig.adamw(1e-3, 0.01).withCosineSchedule(0, 0)) // T_max = epochs
            .withAugment(new Augmentation(2, 0)); // RandomCrop(28, padding=2), no flips
    // doc:trainer-options end
    return adamw;
  }

  public static void main(String[] args) throws IOException {
    Path dataDir = args.length > 0 ? Path.of(args[0]) : null;
    int limitTrain = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int limitTest = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    handWritten(dataDir, limitTrain, limitTest);
    withTrainer(dataDir, limitTrain, limitTest, Path.of("normlab-runs", "examples", "trainer"));
  }
}
