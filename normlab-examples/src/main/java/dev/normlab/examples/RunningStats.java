package dev.normlab.examples;

import dev.normlab.nn.norm.BatchNorm2d;
import dev.normlab.nn.norm.InstanceNorm2d;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.Locale;

/**
 * Train vs eval: BatchNorm normalizes with the batch's statistics while training and with its
 * running statistics in eval; InstanceNorm uses each sample's own statistics in both modes unless
 * it is asked to track running statistics.
 */
public final class RunningStats {
  private RunningStats() {}

  /**
   * What the test checks.
   *
   * @param bnRunningMean BatchNorm's running mean after training on data of mean 3
   * @param bnRunningVar its running variance (data variance 4)
   * @param bnTrainBatchEffect how much sample 0's BatchNorm output changes when its batch-mates
   *     change, in train mode
   * @param bnEvalBatchEffect the same in eval mode
   * @param inBatchEffect the same for InstanceNorm (train mode)
   * @param trackedInEvalMean the mean of a tracked InstanceNorm's eval output on a shifted sample
   * @param plainInEvalMean the mean of a plain InstanceNorm's eval output on the same sample
   */
  public record Result(
      float[] bnRunningMean,
      float[] bnRunningVar,
      long bnBatchesTracked,
      double bnTrainBatchEffect,
      double bnEvalBatchEffect,
      double inBatchEffect,
      double trackedInEvalMean,
      double plainInEvalMean) {}

  public static Result run() {
    // doc:running-stats begin
    Rng rng = new Rng(0);
    BatchNorm2d bn = new BatchNorm2d(3); // momentum 0.1, tracks running statistics
    InstanceNorm2d in = new InstanceNorm2d(3); // PyTorch's default: no running statistics
    InstanceNorm2d inTracked = new InstanceNorm2d(3, 1e-5, 0.1, false, true);

    for (int step = 0; step < 100; step++) { // train mode: each batch's own statistics
      Tensor batch = Tensor.randn(rng, 16, 3, 8, 8).mul(2f).add(3f); // mean 3, variance 4
      bn.forward(batch);
      inTracked.forward(batch);
    }
    System.out.println("BN running_mean " + fmt(bn.runningMean()) + " (data mean 3)");
    System.out.println("BN running_var  " + fmt(bn.runningVar()) + " (data variance 4)");
    System.out.println("BN num_batches_tracked " + (long) bn.numBatchesTracked().item());
    // doc:running-stats end
    float[] runningMean = bn.runningMean().toArray(); // for the test, before more batches
    float[] runningVar = bn.runningVar().toArray();
    long tracked = (long) bn.numBatchesTracked().item();

    // doc:batch-dependence begin

    // Does sample 0's output depend on the rest of its batch?
    Tensor sample = Tensor.randn(rng, 1, 3, 8, 8).mul(2f).add(3f);
    Tensor mates1 = Tensor.randn(rng, 7, 3, 8, 8).mul(2f).add(3f);
    Tensor mates2 = Tensor.randn(rng, 7, 3, 8, 8).mul(5f).sub(1f);
    Tensor batch1 = Tensor.cat(0, sample, mates1);
    Tensor batch2 = Tensor.cat(0, sample, mates2);
    double bnTrain = batchEffect(bn, batch1, batch2);
    double inTrain = batchEffect(in, batch1, batch2);
    bn.eval();
    in.eval();
    inTracked.eval();
    double bnEval = batchEffect(bn, batch1, batch2);
    System.out.printf("BN train: sample 0 changes by %.3f when its batch-mates change%n", bnTrain);
    System.out.printf("BN eval:  sample 0 changes by %.3f (running statistics)%n", bnEval);
    System.out.printf("IN train: sample 0 changes by %.3f (its own statistics)%n", inTrain);

    // Eval on a sample shifted by +10: plain IN re-centres it, tracked IN uses the running mean
    Tensor shifted = sample.add(10f);
    double plainMean = in.forward(shifted).mean().item();
    double trackedMean = inTracked.forward(shifted).mean().item();
    System.out.printf(
        "IN eval, shifted sample: plain mean %.3f, tracked mean %.3f%n", plainMean, trackedMean);
    // doc:batch-dependence end
    return new Result(
        runningMean, runningVar, tracked, bnTrain, bnEval, inTrain, trackedMean, plainMean);
  }

  /** Max |difference| of sample 0's output between two batches that share only sample 0. */
  static double batchEffect(dev.normlab.nn.Module norm, Tensor batch1, Tensor batch2) {
    Tensor y1 = norm.forward(batch1).select(0, 0);
    Tensor y2 = norm.forward(batch2).select(0, 0);
    return y1.sub(y2).abs().max().item();
  }

  static String fmt(Tensor t) {
    StringBuilder sb = new StringBuilder("[");
    for (float v : t.toArray()) {
      sb.append(sb.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "%.3f", v));
    }
    return sb.append("]").toString();
  }

  public static void main(String[] args) {
    run();
  }
}
