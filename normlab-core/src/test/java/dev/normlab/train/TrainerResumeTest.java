package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.CheckpointException;
import dev.normlab.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped at any step and resumed from its newest checkpoint ends with the same weights and
 * metrics, bit for bit, as a run that was never stopped. (The same with SIGKILL in a child JVM is
 * {@code ResumeAfterKillTest} in normlab-cli.) Here the "crash" is an exception from the listener,
 * which lets the test stop exactly at chosen steps: mid-epoch, right after a step checkpoint, and
 * just after an epoch boundary.
 */
class TrainerResumeTest {
  @TempDir Path tmp;

  /** Thrown by the listener to stop a run at a chosen step, as a crash would. */
  static final class Crash extends RuntimeException {
    Crash(long step) {
      super("simulated crash after step " + step);
    }
  }

  @Test
  void resumedRunsEndBitIdenticalToAnUninterruptedOne() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 32); // 4 steps per epoch
    TrainConfig base = SyntheticMnist.config("batch", 2, tmp.resolve("ref")).withCheckpointEvery(3);
    // step 5: resume from the step-3 checkpoint (mid epoch 1 -> epoch 2 boundary crossed);
    // step 7: resume from the step-6 checkpoint (mid epoch 2); step 4: from step 3.
    assertResumesBitIdentical(base, data, 4, 5, 7);
  }

  /**
   * Adam's moments and step counts and the schedule's position come back too: resumed at an epoch
   * end (step 9 crashes before its step checkpoint, so epoch 2's is the newest) and mid epoch.
   */
  @Test
  void resumedRunsWithAdamAndASchedulePickUpTheirLearningRate() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 32);
    TrainConfig sgd = SyntheticMnist.config("group", 3, tmp.resolve("ref")).withCheckpointEvery(3);
    TrainConfig cosine = sgd.withOptim(OptimizerConfig.adam(1e-3).withCosineSchedule(0, 1e-5));
    assertResumesBitIdentical(cosine, data, 5, 9, 10);
    TrainConfig step =
        sgd.withOptim(
            new OptimizerConfig(
                "adamw", 2e-3, 0, 0, false, 0.05, 0.8, 0.99, 1e-7, "step", 2, 0.5, 0, 0));
    assertResumesBitIdentical(step.withCheckpointDir(tmp.resolve("ref-step")), data, 5, 9);
  }

  /** The crops and flips a resumed run draws are those the uninterrupted one drew. */
  @Test
  void resumedRunsWithAugmentationSeeTheSameImages() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 32);
    TrainConfig c =
        SyntheticMnist.config("instance", 2, tmp.resolve("ref"))
            .withCheckpointEvery(3)
            .withAugment(new Augmentation(2, 0.5));
    assertResumesBitIdentical(c, data, 5, 7);
  }

  private void assertResumesBitIdentical(TrainConfig base, Datasets data, long... crashes)
      throws Exception {
    TrainResult ref = new Trainer(base, null, data).run();
    Map<String, Tensor> refWeights =
        Checkpoint.load(ref.checkpointDir().resolve("last.safetensors")).modelState();
    for (long crashAt : crashes) {
      Path dir =
          base.checkpointDir()
              .resolveSibling(base.checkpointDir().getFileName() + "-crash" + crashAt);
      TrainConfig c = base.withCheckpointDir(dir);
      TrainingListener crasher =
          new TrainingListener() {
            @Override
            public void onStep(long step, int epoch, double loss, double lr, double ips) {
              if (step == crashAt) {
                throw new Crash(step);
              }
            }
          };
      assertThrows(Crash.class, () -> new Trainer(c, crasher, data).run());
      assertTrue(Files.exists(dir.resolve("step.safetensors")), "a step checkpoint was written");
      TrainResult resumed = new Trainer(c.withResume(true), null, data).run();
      Map<String, Tensor> w = Checkpoint.load(dir.resolve("last.safetensors")).modelState();
      assertEquals(refWeights.keySet(), w.keySet());
      for (var e : refWeights.entrySet()) {
        assertArrayEquals(
            e.getValue().data(),
            w.get(e.getKey()).data(),
            "crash at step " + crashAt + ": tensor " + e.getKey() + " differs");
      }
      assertEquals(ref.epochs().size(), resumed.epochs().size());
      for (int i = 0; i < ref.epochs().size(); i++) {
        EpochResult a = ref.epochs().get(i);
        EpochResult b = resumed.epochs().get(i);
        assertEquals(a.step(), b.step());
        assertEquals(a.trainLoss(), b.trainLoss(), 0.0, "train loss, epoch " + a.epoch());
        assertEquals(a.testLoss(), b.testLoss(), 0.0, "test loss, epoch " + a.epoch());
        assertEquals(a.testAccuracy(), b.testAccuracy(), 0.0);
        assertEquals(a.trainAccuracy(), b.trainAccuracy(), 0.0, "train accuracy");
        assertArrayEquals(a.perClassAccuracy(), b.perClassAccuracy());
      }
    }
  }

  @Test
  void resumeRefusesChangedSettingsAndNamesTheFile() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 32, 16);
    TrainConfig c = SyntheticMnist.config("group", 1, tmp.resolve("run"));
    new Trainer(c, null, data).run();
    TrainConfig changed = c.withLr(0.5).withEpochs(2).withResume(true);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> new Trainer(changed, null, data).run());
    assertTrue(
        e.getMessage().startsWith(tmp.resolve("run").resolve("last.safetensors").toString()),
        e.getMessage());
    assertTrue(e.getMessage().contains("lr 0.01 (checkpoint) vs 0.5 (now)"), e.getMessage());
    // Another norm: the checkpoint's tensors do not fit the model.
    TrainConfig otherNorm = c.withNorm("layer").withEpochs(2).withResume(true);
    e = assertThrows(CheckpointException.class, () -> new Trainer(otherNorm, null, data).run());
    assertTrue(e.getMessage().contains("norm group (checkpoint) vs layer (now)"), e.getMessage());
    // Another optimizer or schedule would continue a different run.
    TrainConfig adam =
        c.withOptim(OptimizerConfig.adam(0.01).withCosineSchedule(0, 0))
            .withEpochs(2)
            .withResume(true);
    e = assertThrows(CheckpointException.class, () -> new Trainer(adam, null, data).run());
    assertTrue(e.getMessage().contains("optimizer sgd (checkpoint) vs adam (now)"), e.getMessage());
    assertTrue(
        e.getMessage().contains("scheduler none (checkpoint) vs cosine (now)"), e.getMessage());
    // A cosine run given more epochs keeps its schedule only with its period named.
    TrainConfig cosine =
        c.withCheckpointDir(tmp.resolve("cosine"))
            .withOptim(OptimizerConfig.sgd(0.01, 0.9, 0).withCosineSchedule(0, 0));
    new Trainer(cosine, null, data).run();
    e =
        assertThrows(
            CheckpointException.class,
            () -> new Trainer(cosine.withEpochs(3).withResume(true), null, data).run());
    assertTrue(
        e.getMessage()
            .contains(
                "t_max 1 (checkpoint) vs 3 (now) (the cosine period follows --epochs; pass --t-max 1"
                    + " to keep it)"),
        e.getMessage());
    TrainResult longer =
        new Trainer(
                cosine
                    .withOptim(OptimizerConfig.sgd(0.01, 0.9, 0).withCosineSchedule(1, 0))
                    .withEpochs(3)
                    .withResume(true),
                null,
                data)
            .run();
    assertEquals(3, longer.epochs().size());
    TrainConfig cropped = c.withAugment(new Augmentation(2, 0)).withEpochs(2).withResume(true);
    e = assertThrows(CheckpointException.class, () -> new Trainer(cropped, null, data).run());
    assertTrue(e.getMessage().contains("random_crop 0 (checkpoint) vs 2 (now)"), e.getMessage());
  }

  @Test
  void checkpointCarriesRunIdForTheStore() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 32, 16);
    TrainConfig c =
        SyntheticMnist.config("none", 1, tmp.resolve("run"))
            .withCheckpointEvery(1)
            .withRunId("r-42");
    new Trainer(c, null, data).run();
    assertEquals("r-42", Checkpoint.load(tmp.resolve("run/last.safetensors")).runId());
    assertEquals("r-42", Checkpoint.load(tmp.resolve("run/step.safetensors")).runId());
    assertNotNull(Checkpoint.load(tmp.resolve("run/best.safetensors")).runId());
  }
}
