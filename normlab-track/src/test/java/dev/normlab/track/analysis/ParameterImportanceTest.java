package dev.normlab.track.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.analysis.ParameterImportance.Observation;
import dev.normlab.track.analysis.ParameterImportance.Parameter;
import dev.normlab.track.analysis.ParameterImportance.Result;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ParameterImportanceTest {
  private static Map<String, Object> config(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Parameter param(Result r, String key) {
    return r.parameters().stream().filter(p -> p.key().equals(key)).findFirst().orElseThrow();
  }

  /**
   * Accuracy that peaks at a middle lr (as the README's random sweep found): the rank correlation
   * is about 0, the forest still puts lr first; the seed, which changes nothing, gets little.
   */
  @Test
  void findsAnEffectThatRisesAndFallsWhereTheCorrelationSeesNone() {
    Random rnd = new Random(1);
    List<Observation> runs = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      double logLr = -3 + 2 * rnd.nextDouble(); // 0.001 .. 0.1
      double acc = 95 - 40 * (logLr + 2) * (logLr + 2) + 0.2 * rnd.nextGaussian();
      runs.add(new Observation(config("lr", Math.pow(10, logLr), "seed", i % 4, "epochs", 1), acc));
    }
    Result r = ParameterImportance.of("test/accuracy", runs);
    assertEquals(40, r.runs());
    assertEquals(List.of("lr", "seed"), r.parameters().stream().map(Parameter::key).toList());
    assertTrue(param(r, "lr").importance() > 0.85, "lr " + param(r, "lr").importance());
    assertTrue(Math.abs(param(r, "lr").correlation()) < 0.4, "rho " + param(r, "lr").correlation());
    assertEquals(1.0, param(r, "lr").importance() + param(r, "seed").importance(), 1e-12);
    assertTrue(r.outOfBagR2() > 0.8, "oob R2 " + r.outOfBagR2());
    assertEquals(0.001, param(r, "lr").min(), 0.0005);
  }

  /**
   * A word-valued parameter (the norm) that decides the result ranks first, its values best first.
   */
  @Test
  void ranksWordsAndListsTheirValuesBestFirst() {
    Random rnd = new Random(2);
    Map<String, Double> level = Map.of("none", 91.0, "batch", 93.0, "group", 94.0);
    List<Observation> runs = new ArrayList<>();
    for (String norm : List.of("none", "batch", "group")) {
      for (int s = 0; s < 6; s++) {
        double lr = 0.01 * (1 + s % 3);
        double acc = level.get(norm) + 0.3 * (s % 3) + 0.05 * rnd.nextGaussian();
        runs.add(new Observation(config("norm", norm, "lr", lr, "seed", s), acc));
      }
    }
    Result r = ParameterImportance.of("test/accuracy", runs);
    Parameter norm = r.parameters().get(0);
    assertEquals("norm", norm.key());
    assertTrue(norm.importance() > 0.7, "norm " + norm.importance());
    assertNull(norm.correlation());
    assertEquals(
        List.of("group", "batch", "none"),
        norm.values().stream().map(ParameterImportance.ValueMean::value).toList());
    assertEquals(6, norm.values().get(0).runs());
    assertTrue(param(r, "lr").correlation() > 0.3, "lr rho " + param(r, "lr").correlation());
    assertTrue(param(r, "lr").importance() > param(r, "seed").importance());
  }

  @Test
  void leavesOutConstantRunSpecificAndIdentifyingKeysAndRunsWithoutTheMetric() {
    List<Observation> runs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Map<String, Object> c =
          config(
              "lr",
              0.01 * (i + 1),
              "epochs",
              1,
              "checkpoint_dir",
              "ckpt/" + i,
              "env.host",
              "h" + i,
              "tag_line",
              "run " + i);
      runs.add(new Observation(c, i == 5 ? Double.NaN : 90 + i));
    }
    Result r = ParameterImportance.of("test/accuracy", runs);
    assertEquals(5, r.runs());
    assertEquals(1, r.runsWithoutMetric());
    assertEquals(List.of("lr"), r.parameters().stream().map(Parameter::key).toList());
    assertEquals(Map.of("tag_line", "a different value in every run"), r.leftOut());
    assertEquals(1.0, param(r, "lr").importance(), 1e-12);
    assertEquals(1.0, param(r, "lr").correlation(), 1e-12);
  }

  /** A parameter some runs lack (momentum under Adam) is a value of its own, below every number. */
  @Test
  void aMissingNumberIsSplitOffByOneSplit() {
    List<Observation> runs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      boolean adam = i % 2 == 0;
      Map<String, Object> c = new HashMap<>();
      c.put("optimizer", adam ? "adam" : "sgd");
      if (!adam) {
        c.put("momentum", i % 4 == 1 ? 0.5 : 0.9);
      }
      runs.add(new Observation(c, adam ? 80 : (i % 4 == 1 ? 90 : 95)));
    }
    Result r = ParameterImportance.of("test/accuracy", runs);
    Parameter m = param(r, "momentum");
    assertEquals(6, m.missing());
    assertEquals(0.5, m.min());
    assertEquals(0.9, m.max());
    assertEquals(1.0, m.importance() + param(r, "optimizer").importance(), 1e-12);
    assertTrue(m.importance() > 0.2, "momentum " + m.importance());
    assertTrue(r.outOfBagR2() > 0.9, "oob R2 " + r.outOfBagR2());
  }

  @Test
  void theSameRunsGiveTheSameNumbers() {
    Random rnd = new Random(3);
    List<Observation> runs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      runs.add(
          new Observation(
              config("a", rnd.nextDouble(), "b", rnd.nextInt(3), "c", i % 2 == 0 ? "x" : "y"),
              rnd.nextGaussian()));
    }
    assertEquals(
        ParameterImportance.of("m", runs).toMap(), ParameterImportance.of("m", runs).toMap());
  }

  @Test
  void saysWhyWhenThereIsNothingToRank() {
    Result few =
        ParameterImportance.of(
            "test/loss",
            List.of(new Observation(config("lr", 0.1), 1), new Observation(config("lr", 0.2), 2)));
    assertEquals("needs at least 3 runs with a value of test/loss, has 2", few.reason());
    assertTrue(few.parameters().isEmpty());
    Result flat =
        ParameterImportance.of(
            "test/loss",
            List.of(
                new Observation(config("lr", 0.1), 1),
                new Observation(config("lr", 0.1), 2),
                new Observation(config("lr", 0.1), 3)));
    assertEquals("no config parameter varies over these runs", flat.reason());
    assertNull(flat.outOfBagR2());
  }

  /** Spearman against values worked by hand: ties take their mean rank. */
  @Test
  void spearmanWithTies() {
    assertEquals(1.0, ParameterImportance.spearman(new double[] {1, 2, 3}, new double[] {1, 4, 9}));
    assertEquals(
        -1.0, ParameterImportance.spearman(new double[] {1, 2, 3, 4}, new double[] {8, 4, 2, 1}));
    // ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4 -> Pearson of those = 0.9486832980505138
    assertEquals(
        0.9486832980505138,
        ParameterImportance.spearman(new double[] {1, 2, 2, 3}, new double[] {10, 20, 30, 40}),
        1e-15);
    assertTrue(
        Double.isNaN(ParameterImportance.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
    assertThrows(
        IllegalArgumentException.class,
        () -> ParameterImportance.spearman(new double[] {1, 2}, new double[] {1}));
  }

  /** The forest alone: a result that is a step in one column gives that column every split. */
  @Test
  void forestGivesAStepToItsColumn() {
    double[][] x = new double[2][30];
    double[] y = new double[30];
    Random rnd = new Random(4);
    for (int i = 0; i < 30; i++) {
      x[0][i] = rnd.nextDouble();
      x[1][i] = rnd.nextDouble();
      y[i] = x[1][i] > 0.5 ? 1 : 0;
    }
    Forest f = Forest.grow(x, y, 50, 7);
    assertTrue(f.decrease()[1] > 5 * f.decrease()[0], f.decrease()[1] + " vs " + f.decrease()[0]);
    assertNotNull(f.outOfBagR2());
    assertTrue(f.outOfBagR2() > 0.8, "oob R2 " + f.outOfBagR2());
  }
}
