package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer uses the config's optimizer and steps its schedule once per epoch. */
class TrainerScheduleTest {
  @TempDir Path tmp;

  /** The lr each step trained with, as the listener saw it. */
  private static List<Double> stepLrs(TrainConfig c, Datasets data) throws Exception {
    List<Double> lrs = new ArrayList<>();
    new Trainer(
            c,
            new TrainingListener() {
              @Override
              public void onStep(long step, int epoch, double loss, double lr, double ips) {
                lrs.add(lr);
              }
            },
            data)
        .run();
    return lrs;
  }

  @Test
  void stepScheduleHalvesTheLrEveryTwoEpochs() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 32, 16); // 2 steps per epoch
    TrainConfig c =
        SyntheticMnist.config("instance", 5, tmp.resolve("run"))
            .withOptim(
                new OptimizerConfig(
                    "sgd", 0.04, 0.9, 0, true, 0, 0.9, 0.999, 1e-8, "step", 2, 0.5, 0, 0));
    assertEquals(
        List.of(0.04, 0.04, 0.04, 0.04, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01), stepLrs(c, data));
    // The checkpoint holds the lr a sixth epoch would train with: 0.04 * 0.5^floor(5 / 2).
    Checkpoint last = Checkpoint.load(tmp.resolve("run/last.safetensors"));
    String groups = last.metadata().get("normlab.optimizer.param_groups");
    Map<?, ?> g = (Map<?, ?>) ((List<?>) Json.parse(groups)).get(0);
    assertEquals(0.01, ((Number) g.get("lr")).doubleValue());
    assertEquals(0.04, ((Number) g.get("initial_lr")).doubleValue());
  }

  @Test
  void cosineScheduleFollowsPyTorchsClosedFormAndAdamKeepsItsMoments() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 32, 16);
    TrainConfig c =
        SyntheticMnist.config("layer", 4, tmp.resolve("run"))
            .withOptim(OptimizerConfig.adam(1e-3).withCosineSchedule(0, 1e-4));
    List<Double> lrs = stepLrs(c, data);
    for (int epoch = 0; epoch < 4; epoch++) {
      double expected = 1e-4 + (1e-3 - 1e-4) * (1 + Math.cos(Math.PI * epoch / 4)) / 2;
      assertEquals(expected, lrs.get(2 * epoch), 1e-15, "epoch " + (epoch + 1));
      assertEquals(expected, lrs.get(2 * epoch + 1), 1e-15, "epoch " + (epoch + 1));
    }
    Checkpoint last = Checkpoint.load(tmp.resolve("run/last.safetensors"));
    assertEquals("Adam", last.metadata().get("normlab.optimizer"));
    assertTrue(
        last.optimizerState().containsKey("state.0.exp_avg_sq"),
        last.optimizerState().keySet().toString());
    assertEquals(8.0, last.optimizerState().get("state.0.step").item()); // 4 epochs x 2 steps
  }
}
