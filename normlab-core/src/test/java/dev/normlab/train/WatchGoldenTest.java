package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.normlab.data.SharedData;
import dev.normlab.io.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --watch}'s statistics against PyTorch's twin on the same weights, batches and dropout
 * masks (seed 0, the first 320 MNIST training images, steps 1 and 5), from {@code
 * scripts/torch/watch_reference.py}: every activation's mean, std and percentiles, the dead ReLUs,
 * every parameter's gradient, weight and update norms.
 */
class WatchGoldenTest {
  @TempDir Path tmp;

  @Test
  void watchedStatisticsMatchPyTorchsTwin() throws Exception {
    Path shared = SharedData.require("mnist");
    Map<String, Map<Long, Map<String, Object>>> twin = fixture();
    assertEquals(
        List.of("none", "batch", "instance", "layer", "group"), List.copyOf(twin.keySet()));
    for (String norm : twin.keySet()) {
      TrainConfig config =
          TrainConfig.defaults(norm)
              .withEpochs(1)
              .withThreads(2)
              .withData(shared, 320, 64)
              .withCheckpointDir(tmp.resolve(norm))
              .withWatchEvery(5);
      Map<Long, Map<String, Double>> ours = new LinkedHashMap<>();
      new Trainer(
              config,
              new TrainingListener() {
                @Override
                public void onWatch(long step, Map<String, Double> stats) {
                  ours.put(step, stats);
                }
              })
          .run();
      assertEquals(List.of(1L, 5L), List.copyOf(ours.keySet()), norm);
      for (var step : twin.get(norm).entrySet()) {
        Map<String, Double> mine = ours.get(step.getKey());
        @SuppressWarnings("unchecked")
        Map<String, Object> theirs = (Map<String, Object>) step.getValue().get("stats");
        @SuppressWarnings("unchecked")
        Map<String, Object> ranges = (Map<String, Object>) step.getValue().get("ranges");
        assertEquals(theirs.keySet(), mine.keySet(), norm + " step " + step.getKey());
        for (String key : theirs.keySet()) {
          double expected = ((Number) theirs.get(key)).doubleValue();
          // float rounding differs between the two and grows with the steps (a step's
          // gradient feeds the next step's weights)
          double rtol = step.getKey() == 1 ? 2e-4 : 3e-3;
          double tol = rtol * Math.abs(expected) + floor(key, theirs, ranges);
          assertEquals(expected, mine.get(key), tol, norm + " step " + step.getKey() + " " + key);
        }
      }
    }
  }

  /**
   * What float rounding leaves of a value that is zero in exact arithmetic: a convolution bias's
   * gradient under Batch or Instance Norm (the norm removes a per-channel constant), an activation
   * mean of zero.
   */
  private static double floor(String key, Map<String, Object> stats, Map<String, Object> ranges) {
    if (key.contains("grad_norm/")) {
      return 1e-4 * ((Number) stats.get("watch/grad_norm/total")).doubleValue();
    }
    if (key.contains("act_mean/")) {
      return 1e-3 * ((Number) stats.get(key.replace("act_mean", "act_std"))).doubleValue();
    }
    if (key.contains("/act_p")) { // from a histogram: to a bin of the batch's range
      String point = key.substring(key.lastIndexOf('/') + 1);
      return 2.0 / Watch.BINS * ((Number) ranges.get(point)).doubleValue();
    }
    if (key.contains("dead_relu/")) {
      return 1e-9; // a unit is dead on both sides or on neither
    }
    return 1e-6;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Map<Long, Map<String, Object>>> fixture() throws Exception {
    Map<String, Map<Long, Map<String, Object>>> out = new LinkedHashMap<>();
    try (InputStream in =
        WatchGoldenTest.class.getResourceAsStream("/fixtures/watch/twin_watch.jsonl")) {
      List<String> lines =
          new ArrayList<>(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
      for (String line : lines) {
        Map<String, Object> o = (Map<String, Object>) Json.parse(line);
        out.computeIfAbsent((String) o.get("norm"), k -> new LinkedHashMap<>())
            .put(((Number) o.get("step")).longValue(), o);
      }
    }
    return out;
  }
}
