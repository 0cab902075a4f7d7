package dev.normlab.train;

import dev.normlab.autograd.Anomaly;
import dev.normlab.autograd.AnomalyException;
import dev.normlab.autograd.GradMode;
import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.io.CheckpointException;
import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Parallel;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.Module;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.LRScheduler;
import dev.normlab.optim.Optimizer;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains the reference CNN with cross entropy and the config's optimizer (SGD, Adam or AdamW) and
 * learning-rate schedule (stepped after every epoch), evaluating on the test set after every epoch
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

  /**
   * The training batches as {@code config} says: its batch size, shuffled from its seed, augmented.
   */
  static DataLoader trainLoader(TrainConfig config, Dataset train, MnistLike which) {
    return DataLoader.builder(train)
        .batchSize(config.batchSize())
        .shuffle(true)
        .seed(config.seed())
        .transform(config.augment().trainTransform(which))
        .prefetch(true)
        .build();
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

  /** The newest checkpoint written or resumed from in this run (null before the first). */
  private Path lastGood;

  private Watch watch; // null unless the config watches

  /** Step 1 (the network as initialized) and every watchEvery-th. */
  private boolean watching(long step) {
    return watch != null && (step == 1 || step % config.watchEvery() == 0);
  }

  /** The stop message for a NaN/Inf: the step, what went wrong and the checkpoint to go back to. */
  private NumericalFaultException numericalFault(
      String what, long step, int epoch, AnomalyException cause) {
    String hint =
        config.detectAnomaly() || cause != null
            ? ""
            : " (run with --detect-anomaly to find the first layer that produced it)";
    return new NumericalFaultException(
        "step "
            + step
            + " (epoch "
            + epoch
            + "): "
            + what
            + hint
            + "; last good checkpoint: "
            + (lastGood == null ? "none yet" : lastGood.toString()),
        step,
        lastGood,
        cause);
  }

  /**
   * A finite loss can still come with an infinite gradient; the update then spoils the weights.
   * Checked before every checkpoint, so that a checkpoint is always one to go back to.
   */
  private void requireFiniteWeights(Module model, long step, int epoch) {
    for (var e : model.stateDict().entrySet()) {
      for (float v : e.getValue().data()) {
        if (!Float.isFinite(v)) {
          throw numericalFault(
              e.getKey() + " became " + v + " after the update", step, epoch, null);
        }
      }
    }
  }

  /**
   * Which module each parameter belongs to, e.g. {@code norm2 (GroupNorm)}, for anomaly messages.
   */
  public static Map<Tensor, Anomaly.Owner> anomalyOwners(Module model) {
    Map<Tensor, Anomaly.Owner> out = new IdentityHashMap<>();
    for (var e : model.namedParameters().entrySet()) {
      String name = e.getKey();
      int dot = name.lastIndexOf('.');
      String path = dot < 0 ? "" : name.substring(0, dot);
      Module m = model;
      for (String part : path.isEmpty() ? new String[0] : path.split("\\.")) {
        m = m.namedChildren().get(part);
      }
      String label = (path.isEmpty() ? "(root)" : path) + " (" + m.getClass().getSimpleName() + ")";
      out.put(e.getValue(), new Anomaly.Owner(name, label));
    }
    return out;
  }

  private TrainResult doRun() throws IOException {
    lastGood = null;
    Parallel.setThreads(config.threads());
    MnistLike which = MnistLike.parse(config.dataset());
    ReferenceCnn.Norm norm = ReferenceCnn.Norm.parse(config.norm());
    Dataset train = load(which, true, config.limitTrain());
    Dataset test = load(which, false, config.limitTest());
    Rng rng = new Rng(config.seed());
    ReferenceCnn model = new ReferenceCnn(norm, config.groups(), rng);
    Optimizer opt = config.optim().create(model.parameters());
    // Built before a resume restores the optimizer's groups (their lr and initial_lr).
    LRScheduler schedule = config.optim().schedule(opt, config.epochs());
    Checkpoints checkpoints = new Checkpoints(config.checkpointDir());
    try (DataLoader loader = trainLoader(config, train, which);
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
      Checkpoints.Partial partial = null;
      Checkpoints.Run run = new Checkpoints.Run(model, opt, rng, loader, config);
      if (config.resume()) {
        var resumed = checkpoints.resume(run);
        if (resumed != null) {
          step = resumed.step();
          startEpoch = resumed.epoch() + 1;
          bestAcc = resumed.bestAccuracy();
          history.addAll(resumed.history());
          partial = resumed.partial();
          lastGood = resumed.file();
          if (schedule != null) {
            schedule.setLastEpoch(resumed.epoch());
          }
          if (loader.epoch() != resumed.epoch()) {
            throw new CheckpointException(
                resumed.file()
                    + ": inconsistent resume state: data loader at epoch "
                    + (loader.epoch() + 1)
                    + " but the checkpoint has "
                    + resumed.epoch()
                    + " finished epochs");
          }
        }
      }
      long totalSteps = (long) loader.numBatches() * config.epochs();
      listener.onStart(config, totalSteps);
      if (config.resume()) {
        listener.onResume(lastGood, startEpoch - 1, step); // lastGood: null when nothing resumed
      }
      int lastEpoch = config.epochs();
      for (EpochResult done : history) { // a run stopped early before a resume stays stopped
        if (!listener.trainOn(done)) {
          lastEpoch = done.epoch();
          listener.onStoppedEarly(done);
          break;
        }
      }
      double trainSeconds = history.stream().mapToDouble(EpochResult::epochSeconds).sum();
      Map<Tensor, Anomaly.Owner> owners = config.detectAnomaly() ? anomalyOwners(model) : null;
      watch = config.watchEvery() > 0 ? new Watch(model) : null;
      // The last epoch's evaluation is of the final model: it also collects the predictions,
      // which saves a second pass over the test set.
      Predictions.Builder finalPredictions = null;
      for (int epoch = startEpoch; epoch <= lastEpoch; epoch++) {
        model.train();
        long t0 = System.nanoTime();
        double lossSum = 0;
        int batches = 0;
        long images = 0;
        long correct = 0; // training images classified right, as trained on; -1: unknown
        double earlierSeconds = 0; // of this epoch, before a resume
        if (partial != null) {
          lossSum = partial.lossSum();
          batches = partial.batches();
          images = partial.images();
          correct = partial.correct();
          earlierSeconds = partial.seconds();
          partial = null;
        }
        for (DataLoader.Batch b : loader) {
          step++;
          double l;
          try (var anomaly = owners != null ? Anomaly.detect(owners) : null;
              var buffers = BufferScope.open()) {
            opt.zeroGradRecycling();
            ActivationProbe probe = watching(step) ? watch : ActivationProbe.NONE;
            Tensor logits = model.forward(b.images(), probe);
            Tensor loss = F.crossEntropy(logits, b.labels());
            l = loss.item();
            if (correct >= 0) { // unknown stays unknown (resumed from an older checkpoint)
              correct += correctPredictions(logits, b.labels());
            }
            if (!Double.isFinite(l)) {
              throw numericalFault("loss became " + l, step, epoch, null);
            }
            loss.backward();
            if (probe != ActivationProbe.NONE) {
              watch.afterBackward();
            }
            opt.step();
          } catch (AnomalyException e) {
            throw numericalFault(e.getMessage(), step, epoch, e);
          }
          batches++;
          images += b.size();
          lossSum += l;
          double secs = earlierSeconds + (System.nanoTime() - t0) / 1e9;
          listener.onStep(step, epoch, l, lr(opt), images / Math.max(secs, 1e-9));
          if (watching(step)) {
            listener.onWatch(step, watch.afterStep());
          }
          boolean midEpoch = loader.epoch() == epoch - 1;
          if (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0 && midEpoch) {
            requireFiniteWeights(model, step, epoch);
            checkpoints.saveStep(
                run,
                epoch,
                step,
                bestAcc,
                history,
                new Checkpoints.Partial(lossSum, batches, images, secs, correct));
            lastGood = checkpoints.step();
          }
        }
        double secs = earlierSeconds + (System.nanoTime() - t0) / 1e9;
        trainSeconds += secs;
        Predictions.Builder sink = null;
        if (epoch == config.epochs()) {
          sink = new Predictions.Builder(test, which.classes().toArray(String[]::new));
          finalPredictions = sink;
        }
        Evaluation ev = evaluate(model, testLoader, train.numClasses(), sink);
        EpochResult r =
            new EpochResult(
                epoch,
                step,
                lossSum / Math.max(1, batches),
                ev.loss(),
                ev.accuracy(),
                ev.perClassAccuracy(),
                images / secs,
                secs,
                correct < 0 ? Double.NaN : 100.0 * correct / Math.max(1, images));
        history.add(r);
        listener.onEpoch(r);
        boolean best = r.testAccuracy() > bestAcc;
        if (best) {
          bestAcc = r.testAccuracy();
        }
        if (schedule != null) {
          // After the epoch, as PyTorch's loops do; the checkpoint keeps the new lr.
          schedule.step();
        }
        requireFiniteWeights(model, step, epoch);
        checkpoints.save(run, epoch, step, bestAcc, history, best);
        lastGood = checkpoints.last();
        listener.onCheckpoint(checkpoints.last(), epoch, best);
        if (epoch < config.epochs() && !listener.trainOn(r)) {
          listener.onStoppedEarly(r);
          break; // ends finished with these epochs
        }
      }
      if (history.isEmpty()) {
        throw new IllegalStateException(
            "nothing to do: the checkpoint already has all " + config.epochs() + " epochs");
      }
      if (finalPredictions == null) {
        // Resumed with every epoch done (a sweep or compare run again with --resume), or stopped
        // early: the last evaluation did not collect predictions; the final model is evaluated
        // once more for them, so that the run ends finished with them as a full run does.
        finalPredictions = new Predictions.Builder(test, which.classes().toArray(String[]::new));
        evaluate(model, testLoader, train.numClasses(), finalPredictions);
      }
      Predictions p = finalPredictions.build();
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

  /** How many rows of {@code logits} [N, classes] predict the row's label. */
  static long correctPredictions(Tensor logits, Tensor labels) {
    float[] z = logits.data();
    float[] y = labels.data();
    int n = logits.size(0);
    int classes = logits.size(1);
    long correct = 0;
    for (int i = 0; i < n; i++) {
      if (predictedClass(z, i, classes) == (int) y[i]) {
        correct++;
      }
    }
    return correct;
  }

  /**
   * The class of row {@code i}'s largest logit, the first of equal ones as {@code torch.argmax}.
   */
  private static int predictedClass(float[] logits, int i, int classes) {
    int best = 0;
    for (int c = 1; c < classes; c++) {
      if (logits[i * classes + c] > logits[i * classes + best]) {
        best = c;
      }
    }
    return best;
  }

  /** The learning rate of the optimizer's (only) parameter group, as the schedule set it. */
  private static double lr(Optimizer opt) {
    return opt.paramGroups().get(0).lr();
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
          int best = predictedClass(lg, i, classes);
          int y = (int) lab[i];
          classTotal[y]++;
          if (best == y) {
            correct++;
            classCorrect[y]++;
          }
          total++;
        }
        if (sink != null) {
          sink.add(b.indices(), F.softmax(logits, 1).data(), lab, b.images().data());
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
}
