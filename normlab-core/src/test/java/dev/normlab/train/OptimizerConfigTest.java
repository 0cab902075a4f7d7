package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.optim.Adam;
import dev.normlab.optim.AdamW;
import dev.normlab.optim.CosineAnnealingLR;
import dev.normlab.optim.Optimizer;
import dev.normlab.optim.SGD;
import dev.normlab.optim.StepLR;
import dev.normlab.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizerConfigTest {
  private static final List<Tensor> PARAMS = List.of(Tensor.zeros(3).requiresGrad(true));

  private static OptimizerConfig of(String optimizer, String scheduler) {
    return new OptimizerConfig(
        optimizer, 0.002, 0.8, 0.1, false, 0.03, 0.85, 0.99, 1e-6, scheduler, 4, 0.5, 0, 1e-4);
  }

  @Test
  void createsTheChosenOptimizerWithItsOptions() {
    Optimizer sgd = of("sgd", "none").create(PARAMS);
    assertInstanceOf(SGD.class, sgd);
    Map<String, Double> o = sgd.paramGroups().get(0).options();
    assertEquals(Map.of("lr", 0.002, "momentum", 0.8, "dampening", 0.1, "weight_decay", 0.03), o);

    var nesterov =
        new OptimizerConfig("SGD", 0.1, 0.9, 0, true, 0, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0);
    assertTrue(((SGD) nesterov.create(PARAMS)).nesterov());

    Optimizer adam = of("adam", "none").create(PARAMS);
    assertEquals(Adam.class, adam.getClass()); // not AdamW, which extends Adam
    assertEquals(
        Map.of("lr", 0.002, "beta1", 0.85, "beta2", 0.99, "eps", 1e-6, "weight_decay", 0.03),
        adam.paramGroups().get(0).options());
    assertInstanceOf(AdamW.class, of("adamw", "none").create(PARAMS));
  }

  @Test
  void schedulesTheChosenWayWithTheRunsEpochsAsTheCosinePeriod() {
    assertNull(of("sgd", "none").schedule(of("sgd", "none").create(PARAMS), 10));
    var step = of("sgd", "step");
    assertInstanceOf(StepLR.class, step.schedule(step.create(PARAMS), 10));
    var cosine = of("adam", "cosine");
    var sched = cosine.schedule(cosine.create(PARAMS), 10);
    assertInstanceOf(CosineAnnealingLR.class, sched);
    // T_max = 10 epochs: halfway there the lr is halfway between eta_min and the initial lr.
    assertEquals(1e-4 + (0.002 - 1e-4) / 2, sched.closedFormLr(5)[0], 1e-15);
    assertEquals(10, cosine.cosinePeriod(10));
    var fixedPeriod =
        new OptimizerConfig("adam", 1, 0, 0, false, 0, 0.9, 0.999, 1e-8, "cosine", 1, 0.1, 3, 0);
    assertEquals(3, fixedPeriod.cosinePeriod(10));
  }

  @Test
  void configMapHoldsOnlyTheChosenOptimizersAndSchedulesKeys() {
    TrainConfig c = TrainConfig.defaults("batch").withCheckpointDir(Path.of("x"));
    Map<String, Object> sgd = c.toMap();
    assertEquals("sgd", sgd.get("optimizer"));
    assertEquals(0.9, sgd.get("momentum"));
    assertEquals(false, sgd.get("nesterov"));
    assertEquals("none", sgd.get("scheduler"));
    assertFalse(sgd.containsKey("beta1"));
    assertFalse(sgd.containsKey("step_size"));

    Map<String, Object> adam = c.withOptim(of("adamw", "cosine")).toMap();
    assertEquals("adamw", adam.get("optimizer"));
    assertEquals(0.85, adam.get("beta1"));
    assertEquals(0.99, adam.get("beta2"));
    assertEquals(1e-6, adam.get("eps"));
    assertEquals(10, adam.get("t_max")); // resolved: the run's 10 epochs
    assertEquals(1e-4, adam.get("eta_min"));
    assertFalse(adam.containsKey("momentum"));
    assertFalse(adam.containsKey("gamma"));

    Map<String, Object> step = c.withOptim(of("sgd", "step")).toMap();
    assertEquals(4, step.get("step_size"));
    assertEquals(0.5, step.get("gamma"));
    assertFalse(step.containsKey("t_max"));
    // A resume compares every key a run writes but the two it may change.
    for (var m : List.of(sgd, adam, step)) {
      for (String k : m.keySet()) {
        assertTrue(k.equals("epochs") || k.equals("threads") || Checkpoints.mustMatch(k), k);
      }
    }
  }

  @Test
  void badValuesAreRefusedWithTheOptionNamed() {
    assertMessage(
        "optimizer must be one of sgd, adam, adamw, got 'rmsprop'", () -> of("rmsprop", "none"));
    assertMessage(
        "scheduler must be one of none, step, cosine, got 'linear'", () -> of("sgd", "linear"));
    assertMessage(
        "nesterov needs a momentum > 0 and dampening 0, got momentum 0.0, dampening 0.0",
        () ->
            new OptimizerConfig("sgd", 0.1, 0, 0, true, 0, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0));
    assertMessage(
        "beta1 must be in [0, 1), got 1.0",
        () ->
            new OptimizerConfig(
                "adam", 0.1, 0, 0, false, 0, 1.0, 0.999, 1e-8, "none", 1, 0.1, 0, 0));
    assertMessage(
        "lr must be > 0, got NaN",
        () ->
            new OptimizerConfig(
                "adam", Double.NaN, 0, 0, false, 0, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0));
    assertMessage(
        "step size must be >= 1, got 0",
        () ->
            new OptimizerConfig(
                "sgd", 0.1, 0, 0, false, 0, 0.9, 0.999, 1e-8, "step", 0, 0.1, 0, 0));
  }

  @Test
  void factoriesGiveTorchOptimsDefaults() {
    assertEquals(
        new OptimizerConfig(
            "adam", 0.001, 0, 0, false, 0, 0.9, 0.999, 1e-8, "cosine", 1, 0.1, 5, 1e-6),
        OptimizerConfig.adam(0.001).withCosineSchedule(5, 1e-6));
    assertEquals(
        new OptimizerConfig(
            "adamw", 0.002, 0, 0, false, 0.01, 0.9, 0.999, 1e-8, "step", 3, 0.5, 0, 0),
        OptimizerConfig.adamw(0.002, 0.01).withStepSchedule(3, 0.5));
    assertEquals(
        new OptimizerConfig("sgd", 0.1, 0.9, 0, false, 0, 0.9, 0.999, 1e-8, "none", 1, 0.1, 0, 0),
        OptimizerConfig.sgd(0.05, 0.9, 0).withLr(0.1));
  }

  @Test
  void describesItselfForTheConsole() {
    assertEquals("sgd lr 0.01, momentum 0.9", OptimizerConfig.sgd(0.01, 0.9, 0).describe(10));
    assertEquals(
        "sgd lr 0.002, momentum 0.8, dampening 0.1, weight decay 0.03, lr x0.5 every 4 epochs",
        of("sgd", "step").describe(10));
    assertEquals(
        "adamw lr 0.002, betas 0.85/0.99, eps 1.0E-6, weight decay 0.03, cosine schedule to"
            + " 1.0E-4 over 10 epochs",
        of("adamw", "cosine").describe(10));
  }

  private static void assertMessage(String expected, Runnable r) {
    assertEquals(expected, assertThrows(IllegalArgumentException.class, r::run).getMessage());
  }
}
