package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.nn.norm.BatchNorm2d;
import dev.normlab.nn.norm.LayerNorm;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Wrong shapes and module arguments are refused with PyTorch's message: expected vs actual. */
class ShapeErrorsTest {
  private final Rng rng = new Rng(0);

  private static void refused(String message, Executable e) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, e).getMessage());
  }

  @Test
  void shapeMismatchesNameExpectedAndActual() {
    refused(
        "Given groups=1, weight of size [8, 3, 3, 3], expected input[2, 1, 8, 8] to have 3"
            + " channels, but got 1 channels instead",
        () -> new Conv2d(3, 8, 3, rng).forward(Tensor.zeros(2, 1, 8, 8)));
    refused(
        "mat1 and mat2 shapes cannot be multiplied (2x9 and 10x4)",
        () -> new Linear(10, 4, true, rng).forward(Tensor.zeros(2, 9)));
    refused(
        "running_mean should contain 8 elements not 16",
        () -> new BatchNorm2d(16).forward(Tensor.zeros(2, 8, 4, 4)));
    refused(
        "Given normalized_shape=[8, 4, 4], expected input with shape [*, 8, 4, 4], but got input"
            + " of size[2, 8, 5, 5]",
        () -> new LayerNorm(new int[] {8, 4, 4}).forward(Tensor.zeros(2, 8, 5, 5)));
    refused(
        "mat1 and mat2 shapes cannot be multiplied (1x12544 and 9216x128)",
        () -> new ReferenceCnn(ReferenceCnn.Norm.NONE, 8, rng).forward(Tensor.zeros(1, 1, 32, 32)));
    refused(
        "Group Norm's groups must divide both convolutions' channel counts (32 and 64): 1, 2, 4,"
            + " 8, 16 or 32, got 64",
        () -> new ReferenceCnn(ReferenceCnn.Norm.GROUP, 64, rng));
    refused(
        "Expected target of shape [2] for input of shape [2, 10], but got target of shape [3]",
        () -> F.crossEntropy(Tensor.zeros(2, 10), Tensor.ofInts(new int[] {1, 2, 3}, 3)));
  }

  @Test
  void badModuleArgumentsAreRefused() {
    refused(
        "in_channels and out_channels must be positive, got -1 and 8",
        () -> new Conv2d(-1, 8, 3, rng));
    refused(
        "dropout probability has to be between 0 and 1, but got 1.5", () -> new Dropout(1.5, rng));
    refused(
        "num_channels must be divisible by num_groups",
        () -> new dev.normlab.nn.norm.GroupNorm(3, 8));
  }
}
