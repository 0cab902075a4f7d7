package dev.normlab.models;

import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.Conv2d;
import dev.normlab.nn.Dropout;
import dev.normlab.nn.Identity;
import dev.normlab.nn.Linear;
import dev.normlab.nn.Module;
import dev.normlab.nn.functional.ConvPool;
import dev.normlab.nn.functional.F;
import dev.normlab.nn.norm.BatchNorm2d;
import dev.normlab.nn.norm.GroupNorm;
import dev.normlab.nn.norm.InstanceNorm2d;
import dev.normlab.nn.norm.LayerNorm;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/**
 * The reference CNN of the comparison (PyTorch's MNIST example net with a norm after each conv):
 * conv(1->32,3) -> norm(32) -> relu -> conv(32->64,3) -> norm(64) -> relu -> maxpool 2 -> dropout
 * 0.25 -> flatten -> linear(9216->128) -> relu -> dropout 0.5 -> linear(128->10). State-dict keys:
 * {@code conv1.*, norm1.*, conv2.*, norm2.*, fc1.*, fc2.*}; the PyTorch twin is {@code
 * scripts/torch/reference_cnn.py}.
 */
public final class ReferenceCnn extends Module {
  /** The normalization placed after each convolution. */
  public enum Norm {
    NONE,
    BATCH,
    INSTANCE,
    LAYER,
    GROUP;

    /** Parses {@code none|batch|instance|layer|group}. */
    public static Norm parse(String s) {
      for (Norm n : values()) {
        if (n.name().equalsIgnoreCase(s.trim())) {
          return n;
        }
      }
      throw new IllegalArgumentException(
          "unknown norm '" + s + "' (expected one of none, batch, instance, layer, group)");
    }

    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Norm norm;
  private final Conv2d conv1;
  private final Module norm1;
  private final Conv2d conv2;
  private final Module norm2;
  private final Dropout dropout1;
  private final Dropout dropout2;
  private final Linear fc1;
  private final Linear fc2;

  /**
   * @param groups the GroupNorm group count (8 in the reference experiment); with {@link
   *     Norm#GROUP} it must divide both convolutions' channel counts ({@link #checkGroups})
   */
  public ReferenceCnn(Norm norm, int groups, Rng rng) {
    this.norm = norm;
    if (norm == Norm.GROUP) {
      checkGroups(groups);
    }
    conv1 = registerModule("conv1", new Conv2d(1, 32, 3, rng));
    norm1 = registerModule("norm1", makeNorm(norm, 32, 26, groups));
    conv2 = registerModule("conv2", new Conv2d(32, 64, 3, rng));
    norm2 = registerModule("norm2", makeNorm(norm, 64, 24, groups));
    dropout1 = registerModule("dropout1", new Dropout(0.25, rng));
    dropout2 = registerModule("dropout2", new Dropout(0.5, rng));
    fc1 = registerModule("fc1", new Linear(9216, 128, true, rng));
    fc2 = registerModule("fc2", new Linear(128, 10, true, rng));
  }

  public ReferenceCnn(Norm norm, Rng rng) {
    this(norm, 8, rng);
  }

  /**
   * Refuses a Group Norm group count that does not divide both convolutions' channel counts (32 and
   * 64), naming the counts that do — before a model is built, and before a sweep trains anything.
   */
  public static void checkGroups(int groups) {
    if (groups < 1 || 32 % groups != 0 || 64 % groups != 0) {
      throw new IllegalArgumentException(
          "Group Norm's groups must divide both convolutions' channel counts (32 and 64): 1, 2,"
              + " 4, 8, 16 or 32, got "
              + groups);
    }
  }

  private static Module makeNorm(Norm norm, int channels, int hw, int groups) {
    return switch (norm) {
      case NONE -> new Identity();
      case BATCH -> new BatchNorm2d(channels);
      case INSTANCE -> new InstanceNorm2d(channels, 1e-5, 0.1, true, false);
      case LAYER -> new LayerNorm(new int[] {channels, hw, hw});
      case GROUP -> new GroupNorm(groups, channels);
    };
  }

  public Norm norm() {
    return norm;
  }

  @Override
  public Tensor forward(Tensor x) {
    return forward(x, ActivationProbe.NONE);
  }

  /**
   * Shows {@code probe} the convolutions' outputs ({@code conv1}, {@code conv2}: what the norms
   * see), the norms' ({@code norm1}, {@code norm2}: what the ReLUs see, the same values as the
   * convolutions' with norm {@code none}), {@code fc1}'s before its ReLU and the logits ({@code
   * fc2}).
   */
  @Override
  public Tensor forward(Tensor x, ActivationProbe probe) {
    x = conv1.forward(x);
    probe.observe("conv1", x, false);
    x = norm1.forward(x);
    probe.observe("norm1", x, true);
    x = conv2.forward(F.relu(x));
    probe.observe("conv2", x, false);
    x = norm2.forward(x);
    probe.observe("norm2", x, true);
    x = ConvPool.maxPool2d(F.relu(x), 2);
    x = dropout1.forward(x);
    x = x.flatten(1, -1);
    x = fc1.forward(x);
    probe.observe("fc1", x, true);
    x = dropout2.forward(F.relu(x));
    x = fc2.forward(x);
    probe.observe("fc2", x, false);
    return x;
  }
}
