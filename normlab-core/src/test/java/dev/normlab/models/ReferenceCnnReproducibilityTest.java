package dev.normlab.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.kernels.Parallel;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Same seed and thread count must give bitwise the same weights. The first repetition runs mostly
 * interpreted, the later ones JIT-compiled: a kernel whose result depends on which of the two ran
 * it (a horizontal vector sum in intrinsic order, say) makes them differ.
 */
class ReferenceCnnReproducibilityTest {
  private final int threadsBefore = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(threadsBefore);
  }

  @ParameterizedTest
  @EnumSource(ReferenceCnn.Norm.class)
  void sameSeedAndThreadsGiveBitwiseSameWeights(ReferenceCnn.Norm norm) {
    Parallel.setThreads(2);
    Map<String, Tensor> first = train(norm);
    for (int rep = 0; rep < 2; rep++) {
      Map<String, Tensor> again = train(norm);
      for (var e : first.entrySet()) {
        assertArrayEquals(
            e.getValue().data(),
            again.get(e.getKey()).data(),
            norm + ": " + e.getKey() + " differs in repetition " + (rep + 2));
      }
    }
  }

  private static Map<String, Tensor> train(ReferenceCnn.Norm norm) {
    Rng rng = new Rng(7);
    ReferenceCnn model = new ReferenceCnn(norm, rng);
    model.train();
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    Rng data = new Rng(11);
    double firstLoss = Double.NaN, lastLoss = Double.NaN;
    for (int step = 0; step < 12; step++) {
      Tensor x = Tensor.randn(data, 8, 1, 28, 28);
      Tensor y = Tensor.randint(data, 0, 10, 8);
      opt.zeroGrad();
      Tensor loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      lastLoss = loss.data()[0];
      if (step == 0) {
        firstLoss = lastLoss;
      }
    }
    // the run must be real training, not a no-op that is trivially reproducible
    assertTrue(
        Double.isFinite(lastLoss) && lastLoss != firstLoss,
        "loss " + firstLoss + " -> " + lastLoss);
    return model.stateDict();
  }
}
