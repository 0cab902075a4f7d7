package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each epoch's training accuracy: the batches' right answers as they were trained on. */
class TrainAccuracyTest {
  @TempDir Path tmp;

  @Test
  void aRowIsRightWhenItsFirstLargestLogitIsAtItsLabel() {
    Tensor logits = Tensor.of(new float[] {1, 3, 2, 5, 5, 0, 0, 0, 1, -1, -2, -3}, 4, 3);
    Tensor labels = Tensor.ofInts(new int[] {1, 0, 1, 0}, 4);
    // row 0: 3 at 1, right; row 1: a tie, the first wins (torch.argmax), right; row 2: wrong;
    // row 3: all negative, the largest is at 0, right
    assertEquals(3, Trainer.correctPredictions(logits, labels));
  }

  @Test
  void eachEpochHasAWholeNumberOfRightImages() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 32);
    TrainResult r =
        new Trainer(SyntheticMnist.config("batch", 2, tmp.resolve("ck")), null, data).run();
    for (EpochResult e : r.epochs()) {
      double right = e.trainAccuracy() * 64 / 100;
      assertEquals(Math.rint(right), right, 1e-9, "epoch " + e.epoch() + ": " + e.trainAccuracy());
      assertTrue(e.trainAccuracy() >= 0 && e.trainAccuracy() <= 100);
    }
  }

  @Test
  void checkpointsFromBeforeItLeaveItUnknown() {
    Checkpoints.Partial old = Checkpoints.Partial.decode("0,3,48,0");
    assertEquals(-1, old.correct());
    Checkpoints.Partial now = new Checkpoints.Partial(1.5, 3, 48, 2.0, 17);
    assertEquals(now, Checkpoints.Partial.decode(now.encode()));
    EpochResult e = new EpochResult(1, 4, 1, 1, 50, new double[] {50}, 10, 1, 62.5);
    List<EpochResult> history = Checkpoints.decode(Checkpoints.encode(List.of(e)));
    assertTrue(Double.isNaN(Checkpoints.withTrainAccuracy(history, "").get(0).trainAccuracy()));
    assertEquals(62.5, Checkpoints.withTrainAccuracy(history, "62.5").get(0).trainAccuracy());
  }
}
