package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reference CNN's summary: the counts are PyTorch's (sum(p.numel()) per child). */
class ModelSummaryTest {
  private static ModelSummary summary(ReferenceCnn.Norm norm) {
    return ModelSummary.of(new ReferenceCnn(norm, new Rng(0)), Tensor.zeros(2, 1, 28, 28));
  }

  @Test
  void layersShapesAndCountsOfTheReferenceCnn() {
    ModelSummary s = summary(ReferenceCnn.Norm.BATCH);
    assertEquals(
        List.of("conv1", "norm1", "conv2", "norm2", "dropout1", "dropout2", "fc1", "fc2"),
        s.layers().stream().map(ModelSummary.Layer::name).toList());
    var conv1 = s.layers().get(0);
    assertEquals("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))", conv1.module());
    assertArrayEquals(new int[] {2, 32, 26, 26}, conv1.outputShape());
    assertEquals(32 * 9 + 32, conv1.parameters());
    var norm2 = s.layers().get(3);
    assertArrayEquals(new int[] {2, 64, 24, 24}, norm2.outputShape());
    assertEquals(128, norm2.parameters());
    assertEquals(64 + 64 + 1, norm2.bufferValues()); // running mean, var, num_batches_tracked
    assertNull(s.layers().get(4).outputShape(), "the model shows no probe its dropout's output");
    assertArrayEquals(new int[] {2, 128}, s.layers().get(6).outputShape());
    assertEquals(9216 * 128 + 128, s.layers().get(6).parameters());
    assertArrayEquals(new int[] {2, 10}, s.layers().get(7).outputShape());
    assertEquals(1_200_074, s.parameters());
    assertEquals(194, s.bufferValues());
    assertTrue(
        s.table().endsWith("parameters: 1,200,074 (4.80 MB as float32); buffer values: 194\n"),
        s.table());
    assertTrue(
        s.table()
            .contains(
                "norm2     BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True,"
                    + " track_running_stats=True)  [2, 64, 24, 24]         128      129"),
        s.table());
  }

  @Test
  void whatEachNormAdds() {
    assertEquals(1_199_882, summary(ReferenceCnn.Norm.NONE).parameters());
    assertEquals(0, summary(ReferenceCnn.Norm.NONE).bufferValues());
    assertEquals(1_199_882 + 192, summary(ReferenceCnn.Norm.GROUP).parameters());
    assertEquals(1_199_882 + 192, summary(ReferenceCnn.Norm.INSTANCE).parameters());
    // LayerNorm over (C, H, W): a scale and a shift per element
    assertEquals(
        1_199_882 + 2 * 32 * 26 * 26 + 2 * 64 * 24 * 24,
        summary(ReferenceCnn.Norm.LAYER).parameters());
  }

  @Test
  void theModelIsLeftAsItWas() {
    ReferenceCnn a = new ReferenceCnn(ReferenceCnn.Norm.BATCH, new Rng(5));
    ReferenceCnn b = new ReferenceCnn(ReferenceCnn.Norm.BATCH, new Rng(5));
    ModelSummary.of(a, Tensor.randn(new Rng(1), 4, 1, 28, 28));
    assertTrue(a.isTraining());
    assertEquals(0, a.namedBuffers().get("norm1.num_batches_tracked").toArray()[0]);
    Tensor x = Tensor.randn(new Rng(2), 4, 1, 28, 28);
    // same dropout draws and running statistics as a model the summary never saw
    assertArrayEquals(b.forward(x).toArray(), a.forward(x).toArray());
  }
}
