package dev.normlab.nn;

import dev.normlab.autograd.GradMode;
import dev.normlab.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's layers, as torchinfo's and Keras's {@code summary} show them: each child module with
 * its output shape (where the model names its outputs to an {@link ActivationProbe}), its learnable
 * parameters and its buffers (running statistics), and the totals. One forward pass in eval mode
 * without a tape gives the shapes; the model is left as it was.
 */
public final class ModelSummary {
  /**
   * One child module.
   *
   * @param name its name in the model ({@code conv1}, or an index in a {@link Sequential})
   * @param module its repr ({@code Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))})
   * @param outputShape its output's shape, null when the model shows it no probe
   * @param parameters learnable values (weights, biases, affine scales and shifts)
   * @param bufferValues values kept but not learned (running means and variances, counters)
   */
  public record Layer(
      String name, String module, int[] outputShape, long parameters, long bufferValues) {}

  private final List<Layer> layers;

  private ModelSummary(List<Layer> layers) {
    this.layers = List.copyOf(layers);
  }

  /** The summary of {@code model} on a batch shaped like {@code input}. */
  public static ModelSummary of(Module model, Tensor input) {
    Map<String, int[]> shapes = new HashMap<>();
    boolean training = model.isTraining();
    model.eval(); // no running statistics move, no dropout drawn
    try (var noTape = GradMode.noGrad()) {
      model.forward(input, (point, a, beforeRelu) -> shapes.put(point, a.shape().clone()));
    } finally {
      model.train(training);
    }
    List<Layer> layers = new ArrayList<>();
    for (var e : model.namedChildren().entrySet()) {
      Module child = e.getValue();
      layers.add(
          new Layer(
              e.getKey(),
              child.toString().lines().findFirst().orElse(""),
              shapes.get(e.getKey()),
              count(child.parameters()),
              count(child.namedBuffers().values())));
    }
    return new ModelSummary(layers);
  }

  private static long count(Iterable<Tensor> ts) {
    long n = 0;
    for (Tensor t : ts) {
      n += t.numel();
    }
    return n;
  }

  public List<Layer> layers() {
    return layers;
  }

  /** Learnable values of all the layers. */
  public long parameters() {
    return layers.stream().mapToLong(Layer::parameters).sum();
  }

  /** Buffer values of all the layers. */
  public long bufferValues() {
    return layers.stream().mapToLong(Layer::bufferValues).sum();
  }

  /** The table: name, module, output shape, parameters, buffer values; then the totals. */
  public String table() {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"layer", "module", "output shape", "parameters", "buffers"});
    for (Layer l : layers) {
      rows.add(
          new String[] {
            l.name(),
            l.module(),
            l.outputShape() == null ? "-" : Arrays.toString(l.outputShape()),
            String.format("%,d", l.parameters()),
            l.bufferValues() == 0 ? "-" : String.format("%,d", l.bufferValues())
          });
    }
    int[] width = new int[5];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        boolean number = i >= 3;
        String pad = " ".repeat(width[i] - r[i].length());
        sb.append(number ? pad + r[i] : r[i] + pad).append(i < r.length - 1 ? "  " : "");
      }
      sb.append('\n');
    }
    sb.append(
        String.format(
            "parameters: %,d (%.2f MB as float32); buffer values: %,d%n",
            parameters(), parameters() * 4 / 1e6, bufferValues()));
    return sb.toString();
  }
}
