package dev.normlab.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.normlab.kernels.Parallel;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.KeyedFixtures;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Under the same seed the reference CNN starts from PyTorch's weights bit for bit, and its first
 * SGD steps -- same batches, same dropout masks -- give PyTorch's losses to float rounding
 * (fixtures from {@code scripts/fixtures/make_rng_fixtures.py} with {@code
 * scripts/torch/reference_cnn.py}).
 */
class TorchTwinTest {
  private static final KeyedFixtures FIX = KeyedFixtures.load("/fixtures/rng/rng_fixtures.txt");
  private final int threadsBefore = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(threadsBefore);
  }

  @ParameterizedTest
  @ValueSource(strings = {"batch", "group", "layer"})
  void initialWeightsArePyTorchsUnderTheSameSeed(String norm) {
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), new Rng(0));
    for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
      if (e.getKey().endsWith("num_batches_tracked")) {
        continue;
      }
      String key = "init_" + norm + "_" + e.getKey();
      float[] d = e.getValue().data();
      int k = Math.min(16, d.length);
      assertArrayEquals(FIX.floats(key + "_head"), Arrays.copyOf(d, k), key + " head");
      assertArrayEquals(
          FIX.floats(key + "_tail"), Arrays.copyOfRange(d, d.length - k, d.length), key + " tail");
      // every element equal <=> the exact sums are equal
      assertEquals(FIX.doubles(key + "_dsum")[0], exactSum(d), key + " sum of all elements");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"batch", "group", "layer"})
  void firstTrainingStepsGivePyTorchsLosses(String norm) {
    Parallel.setThreads(2);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), new Rng(0));
    model.train();
    SGD opt = new SGD(model.parameters(), 0.01, 0.9);
    Rng data = new Rng(1);
    double[] want = FIX.doubles("steps_" + norm + "_losses");
    for (int step = 0; step < want.length; step++) {
      Tensor x = Tensor.rand(data, 16, 1, 28, 28).mul(4f).sub(1f);
      Tensor y = Tensor.randint(data, 0, 10, 16);
      opt.zeroGrad();
      Tensor loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      // different summation orders leave the float rounding; a different mask or batch moves the
      // loss by 1e-2 and more
      assertEquals(want[step], loss.data()[0], 2e-5 * want[step], norm + ": loss of step " + step);
    }
  }

  /** The exact sum of floats (as Python's math.fsum), via BigDecimal. */
  private static double exactSum(float[] d) {
    java.math.BigDecimal s = java.math.BigDecimal.ZERO;
    for (float v : d) {
      s = s.add(new java.math.BigDecimal(v));
    }
    return s.doubleValue();
  }
}
