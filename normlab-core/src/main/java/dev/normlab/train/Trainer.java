package dev.normlab.train;

import dev.normlab.autograd.GradMode;
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
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains the reference CNN with SGD and cross entropy, evaluating on the test set after every epoch
 * and checkpointing {@code last.safetensors} and {@code best.safetensors}. Reproducible: the same
 * config (seed, threads) gives the same metrics bit for bit.
 */
public final class Trainer {
  private final TrainConfig config;
  private final TrainingListener listener;
  private final Datasets datasets;

  public Trainer(TrainConfig config, TrainingListener listener) {
    this(config, listener, Datasets.builder().dataDir(config.dataDir()).build());
  }

  public Trainer(TrainConfig config, TrainingListener listener, Datasets datasets) {
    this.config = config;
    this.listener = listener == null ? new TrainingListener() {} : listener;
    this.datasets = datasets;
  }

  /** Loads the dataset split, limited as the config says. */
  private Dataset load(MnistLike which, boolean train, int limit) throws IOException {
    Dataset d = datasets.loadSplit(which, train);
    return limit > 0 && limit < d.size() ? d.head(limit) : d;
  }

  public TrainResult run() throws IOException {
    try {
      return doRun();
    } catch (IOException | RuntimeException | Error e) {
      listener.onFailure(e);
      throw e;
    }
  }

  private TrainResult doRun() throws IOException {
    Parallel.setThreads(config.threads());
    MnistLike which = MnistLike.parse(config.dataset());
    ReferenceCnn.Norm norm = ReferenceCnn.Norm.parse(config.norm());
    Dataset train = load(which, true, config.limitTrain());
    Dataset test = load(which, false, config.limitTest());
    Rng rng = new Rng(config.seed());
    ReferenceCnn model = new ReferenceCnn(norm, config.groups(), rng);
    SGD opt =
        new SGD(model.parameters(), config.lr(), config.momentum(), 0, config.weightDecay(), false);
    Checkpoints checkpoints = new Checkpoints(config.checkpointDir());
    try (DataLoader loader =
            DataLoader.builder(train)
                .batchSize(config.batchSize())
                .shuffle(true)
                .seed(config.seed())
                .transform(Transforms.standard(which))
                .prefetch(true)
                .build();
        DataLoader testLoader =
            DataLoader.builder(test)
                .batchSize(256)
                .shuffle(false)
                .transform(Transforms.standard(which))
                .prefetch(true)
                .build()) {
      List<EpochResult> history = new ArrayList<>();
      long step = 0;
      int startEpoch = 1;
      double bestAcc = -1;
      if (config.resume()) {
        var resumed = checkpoints.resume(model, opt, rng, loader);
        if (resumed != null) {
          step = resumed.step();
          startEpoch = resumed.epoch() + 1;
          bestAcc = resumed.bestAccuracy();
          history.addAll(resumed.history());
        }
      }
      long totalSteps = (long) loader.numBatches() * config.epochs();
      listener.onStart(config, totalSteps);
      double trainSeconds = history.stream().mapToDouble(EpochResult::epochSeconds).sum();
      for (int epoch = startEpoch; epoch <= config.epochs(); epoch++) {
        model.train();
        long t0 = System.nanoTime();
        double lossSum = 0;
        int batches = 0;
        long images = 0;
        for (DataLoader.Batch b : loader) {
          opt.zeroGrad();
          Tensor loss = F.crossEntropy(model.forward(b.images()), b.labels());
          loss.backward();
          opt.step();
          step++;
          batches++;
          images += b.size();
          double l = loss.item();
          if (!Double.isFinite(l)) {
            throw new ArithmeticException(
                "loss became "
                    + l
                    + " at step "
                    + step
                    + " (epoch "
                    + epoch
                    + "); last good checkpoint: "
                    + checkpoints.last());
          }
          lossSum += l;
          double secs = (System.nanoTime() - t0) / 1e9;
          listener.onStep(step, epoch, l, config.lr(), images / Math.max(secs, 1e-9));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        trainSeconds += secs;
        Evaluation ev = evaluate(model, testLoader, train.numClasses(), null);
        EpochResult r =
            new EpochResult(
                epoch,
                step,
                lossSum / Math.max(1, batches),
                ev.loss(),
                ev.accuracy(),
                ev.perClassAccuracy(),
                images / secs,
                secs);
        history.add(r);
        listener.onEpoch(r);
        boolean best = r.testAccuracy() > bestAcc;
        if (best) {
          bestAcc = r.testAccuracy();
        }
        checkpoints.save(model, opt, rng, loader, config, epoch, step, bestAcc, history, best);
        listener.onCheckpoint(checkpoints.last(), epoch, best);
      }
      if (history.isEmpty()) {
        throw new IllegalStateException(
            "nothing to do: the checkpoint already has all " + config.epochs() + " epochs");
      }
      Predictions p = predictions(model, test, which);
      listener.onPredictions(p);
      TrainResult result =
          new TrainResult(
              config,
              List.copyOf(history),
              trainSeconds,
              config.checkpointDir(),
              checkpoints.best());
      listener.onFinish(result);
      return result;
    }
  }

  /** Test loss, accuracy and per-class accuracy, computed in eval mode without a tape. */
  public record Evaluation(double loss, double accuracy, double[] perClassAccuracy) {}

  public static Evaluation evaluate(
      ReferenceCnn model, DataLoader loader, int classes, Predictions.Builder sink) {
    model.eval();
    double lossSum = 0;
    long correct = 0, total = 0;
    long[] classCorrect = new long[classes];
    long[] classTotal = new long[classes];
    try (var g = GradMode.noGrad()) {
      for (DataLoader.Batch b : loader) {
        Tensor logits = model.forward(b.images());
        lossSum += F.crossEntropy(logits, b.labels(), F.Reduction.SUM, 0, -100).item();
        float[] lg = logits.data();
        float[] lab = b.labels().data();
        for (int i = 0; i < b.size(); i++) {
          int best = 0;
          for (int c = 1; c < classes; c++) {
            if (lg[i * classes + c] > lg[i * classes + best]) {
              best = c;
            }
          }
          int y = (int) lab[i];
          classTotal[y]++;
          if (best == y) {
            correct++;
            classCorrect[y]++;
          }
          total++;
        }
        if (sink != null) {
          sink.add(b.indices(), F.softmax(logits, 1).data(), lab);
        }
      }
    }
    model.train();
    double[] per = new double[classes];
    for (int c = 0; c < classes; c++) {
      per[c] = classTotal[c] == 0 ? Double.NaN : 100.0 * classCorrect[c] / classTotal[c];
    }
    return new Evaluation(lossSum / Math.max(1, total), 100.0 * correct / Math.max(1, total), per);
  }

  private Predictions predictions(ReferenceCnn model, Dataset test, MnistLike which) {
    Predictions.Builder sink =
        new Predictions.Builder(test, which.classes().toArray(String[]::new));
    try (DataLoader l =
        DataLoader.builder(test)
            .batchSize(256)
            .shuffle(false)
            .transform(Transforms.standard(which))
            .prefetch(false)
            .build()) {
      evaluate(model, l, test.numClasses(), sink);
    }
    return sink.build();
  }
}
