package dev.normlab.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.Trainer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AnomalyTest {
  private static Tensor batch(Rng rng) {
    return Tensor.randn(rng, 2, 1, 28, 28);
  }

  @Test
  void nanWeightIsReportedAtTheFirstModuleWhoseOutputItSpoils() {
    Rng rng = new Rng(1);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.GROUP, 8, rng);
    model.namedParameters().get("norm2.weight").data()[5] = Float.NaN;
    Tensor x = batch(rng);
    // Without detection, the NaN just flows to the loss.
    Tensor out = model.forward(x);
    assertTrue(Float.isNaN(out.data()[0]));
    try (var a = Anomaly.detect(Trainer.anomalyOwners(model))) {
      AnomalyException e = assertThrows(AnomalyException.class, () -> model.forward(x));
      assertEquals(AnomalyException.Phase.FORWARD, e.phase());
      assertEquals("norm2 (GroupNorm)", e.module());
      assertTrue(e.getMessage().contains("in norm2 (GroupNorm) became NaN"), e.getMessage());
      assertTrue(
          e.getMessage().contains("parameter norm2.weight already holds NaN"), e.getMessage());
    }
    assertFalse(Anomaly.isEnabled(), "the scope switches detection off again");
  }

  @Test
  void overflowInAnOpWithoutParametersNamesTheModuleBefore() {
    Rng rng = new Rng(2);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.NONE, 8, rng);
    float[] w = model.namedParameters().get("conv2.weight").data();
    java.util.Arrays.fill(w, 3e38f); // conv2's sums overflow to +-Inf
    try (var a = Anomaly.detect(Trainer.anomalyOwners(model))) {
      AnomalyException e = assertThrows(AnomalyException.class, () -> model.forward(batch(rng)));
      assertEquals("conv2 (Conv2d)", e.module(), e.getMessage());
      assertTrue(e.getMessage().contains("Inf") || e.getMessage().contains("NaN"), e.getMessage());
    }
  }

  @Test
  void nonFiniteGradientIsReportedWithItsOp() {
    Tensor p = Tensor.of(new float[] {0f, 4f}, 2).requiresGrad(true);
    Map<Tensor, Anomaly.Owner> owners = Map.of(p, new Anomaly.Owner("p", "toy (Param)"));
    // sqrt(0) is finite, its derivative 1/(2 sqrt(0)) is not.
    Tensor y = p.sqrt().sum();
    y.backward(); // no detection: the Inf lands in the gradient silently
    assertTrue(Float.isInfinite(p.grad().data()[0]));
    p.zeroGrad();
    try (var a = Anomaly.detect(owners)) {
      Tensor z = p.sqrt().sum();
      AnomalyException e = assertThrows(AnomalyException.class, z::backward);
      assertEquals(AnomalyException.Phase.BACKWARD, e.phase());
      assertEquals("sqrt", e.op());
      assertEquals("toy (Param)", e.module());
      assertTrue(
          e.getMessage().startsWith("gradient computed by the backward of sqrt in toy (Param)"),
          e.getMessage());
    }
  }

  @Test
  void finiteComputationsPassUntouched() {
    Rng rng = new Rng(3);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, rng);
    Tensor x = batch(rng);
    Tensor labels = Tensor.ofInts(new int[] {3, 7}, 2);
    float[] plain;
    try (var g = GradMode.noGrad()) {
      plain = model.eval().forward(x).data().clone();
    }
    try (var a = Anomaly.detect(Trainer.anomalyOwners(model));
        var g = GradMode.noGrad()) {
      assertEquals(
          java.util.Arrays.toString(plain), java.util.Arrays.toString(model.forward(x).data()));
    }
    model.train();
    try (var a = Anomaly.detect(Trainer.anomalyOwners(model))) {
      F.crossEntropy(model.forward(x), labels).backward();
    }
    assertTrue(Float.isFinite(model.namedParameters().get("fc1.weight").grad().data()[0]));
  }
}
