package dev.normlab.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.normlab.autograd.Autograd;
import dev.normlab.nn.Module;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The norms write their input gradient into an incoming gradient the autograd engine owns: the
 * result must be bitwise what the copying path gives, for the input and the affine parameters, in
 * training and in eval.
 */
class NormInPlaceBackwardTest {
  private record Grads(float[] x, List<float[]> params, float[] xGradStorage, float[] fed) {}

  private static Grads run(Module m, Tensor input, Tensor g, boolean owned) {
    m.zeroGrad();
    Tensor x = Tensor.of(input.data().clone(), input.shape()).requiresGrad(true);
    Tensor y = m.forward(x);
    float[] fed = null;
    if (owned) {
      // an op whose backward hands the norm a fresh gradient nothing else holds
      Tensor fresh = Tensor.of(g.data().clone(), g.shape());
      fed = fresh.data();
      Tensor z =
          Autograd.record(
              "feed", Tensor.of(y.data().clone(), y.shape()), gz -> new Tensor[] {fresh}, y);
      z.backward(Tensor.of(new float[g.data().length], g.shape()));
    } else {
      y.backward(Tensor.of(g.data().clone(), g.shape()));
    }
    List<float[]> params = m.parameters().stream().map(p -> p.grad().data().clone()).toList();
    return new Grads(x.grad().data().clone(), params, x.grad().data(), fed);
  }

  private static void check(String name, Supplier<Module> make, int... shape) {
    Rng rng = new Rng(11);
    Tensor input = Tensor.randn(rng, shape);
    Tensor g = Tensor.randn(rng, shape);
    for (boolean training : new boolean[] {true, false}) {
      Module a = make.get(), b = make.get();
      a.train(training);
      b.train(training);
      Grads copied = run(a, input, g, false);
      Grads inPlace = run(b, input, g, true);
      assertArrayEquals(copied.x(), inPlace.x(), name + " input gradient, training=" + training);
      for (int i = 0; i < copied.params().size(); i++) {
        assertArrayEquals(
            copied.params().get(i), inPlace.params().get(i), name + " parameter " + i);
      }
      // written in place, then taken over by the leaf
      assertSame(inPlace.fed(), inPlace.xGradStorage(), name + " wrote into the owned gradient");
    }
  }

  @Test
  void batchNormInstanceNormGroupNormLayerNormAndRmsNormMatchTheCopyingPath() {
    check("BatchNorm2d", () -> new BatchNorm2d(3), 4, 3, 5, 6);
    check("InstanceNorm2d", () -> new InstanceNorm2d(3, 1e-5, 0.1, true), 4, 3, 5, 6);
    check("GroupNorm", () -> new GroupNorm(2, 4), 3, 4, 5, 7);
    check("LayerNorm", () -> new LayerNorm(4, 5, 7), 3, 4, 5, 7);
    check("RMSNorm", () -> new RMSNorm(5, 7), 3, 4, 5, 7);
  }
}
