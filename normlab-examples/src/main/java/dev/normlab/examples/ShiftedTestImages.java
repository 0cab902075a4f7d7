package dev.normlab.examples;

import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.io.Checkpoint;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import dev.normlab.train.Robustness;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import dev.normlab.train.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code normlab robustness} does, from Java: a trained checkpoint evaluated on darker, lower
 * contrast and inverted test images, Batch Norm also with its statistics re-estimated on them.
 *
 * <p>Usage: {@code ShiftedTestImages [dataDir] [limitTrain] [limitTest]}.
 */
public final class ShiftedTestImages {
  private ShiftedTestImages() {}

  /**
   * Each norm's results (clean first, then the shifts); Batch Norm's adapted ones as
   * "batch+adapted".
   */
  public static Map<String, List<Robustness.Result>> run(
      Path dataDir, int limitTrain, int limitTest, Path out) throws Exception {
    Map<String, List<Robustness.Result>> results = new LinkedHashMap<>();
    for (String norm : List.of("instance", "batch")) {
      TrainConfig config = // the reference experiment's settings, one epoch on a slice
          TrainConfig.defaults(norm)
              .withEpochs(1)
              .withThreads(1)
              .withData(dataDir, limitTrain, limitTest)
              .withCheckpointDir(out.resolve(norm));
      TrainResult trained = new Trainer(config, null).run();
      // doc:robustness begin
      ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), new Rng(0));
      Checkpoint.load(trained.bestCheckpoint()).restoreModel(model, true); // the trained weights
      Dataset test =
          Datasets.builder()
              .dataDir(dataDir)
              .build()
              .loadSplit(MnistLike.MNIST, false)
              .head(limitTest);
      List<InputShift> shifts = InputShift.parseList("brightness=0.2,contrast=0.2,invert");
      List<Robustness.Result> r =
          Robustness.evaluate(model, test, MnistLike.MNIST, shifts, 0); // 0: the noise's seed
      for (Robustness.Result res : r) {
        System.out.printf("%s %s: %.2f%%%n", norm, res.shift(), res.evaluation().accuracy());
      }
      // Batch Norm with its running statistics taken on each shifted set (AdaBN), then put back
      boolean adapt = model.norm() == ReferenceCnn.Norm.BATCH;
      List<Robustness.Result> adapted =
          Robustness.evaluate(model, test, MnistLike.MNIST, shifts, 0, adapt, res -> {});
      // doc:robustness end
      results.put(norm, r);
      if (adapt) {
        results.put(norm + "+adapted", adapted);
      }
    }
    return results;
  }

  public static void main(String[] args) throws Exception {
    Path dataDir = args.length > 0 ? Path.of(args[0]) : null;
    int limitTrain = args.length > 1 ? Integer.parseInt(args[1]) : 6400;
    int limitTest = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
    run(dataDir, limitTrain, limitTest, Path.of("normlab-runs", "examples", "shifted"));
  }
}
