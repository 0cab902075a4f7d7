package dev.normlab.cli;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.ModelSummary;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code normlab summary}: the reference CNN's layers, shapes and parameters, per norm. */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    description = {
      "The reference CNN's layers with each norm: output shapes, learnable parameters and"
          + " buffers (running statistics), and what each norm adds.",
      "Example: normlab summary --norms batch,layer"
    })
final class SummaryCommand implements Callable<Integer> {
  @Option(
      names = "--norms",
      defaultValue = "none,batch,instance,layer,group",
      split = ",",
      description = "norms (default: ${DEFAULT-VALUE})")
  List<String> norms;

  @Option(
      names = "--groups",
      defaultValue = "8",
      description = "GroupNorm groups (default: ${DEFAULT-VALUE})")
  int groups;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      description = "the batch the output shapes are shown for (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (batchSize < 1) {
      throw new ParameterException(spec.commandLine(), "--batch-size must be >= 1");
    }
    StringBuilder totals = new StringBuilder();
    totals.append(
        String.format("%-10s %12s %18s %16s%n", "norm", "parameters", "in the norms", "buffers"));
    for (String name : norms) {
      ReferenceCnn.Norm norm;
      try {
        norm = ReferenceCnn.Norm.parse(name);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      ReferenceCnn model;
      try {
        model = new ReferenceCnn(norm, groups, new Rng(0));
      } catch (IllegalArgumentException e) { // e.g. channels not divisible by the groups
        throw new ParameterException(spec.commandLine(), name + ": " + e.getMessage(), e);
      }
      ModelSummary s = ModelSummary.of(model, Tensor.zeros(batchSize, 1, 28, 28));
      System.out.printf("[%s]%n%s%n", name, s.table());
      long inNorms =
          s.layers().stream()
              .filter(l -> l.name().startsWith("norm"))
              .mapToLong(ModelSummary.Layer::parameters)
              .sum();
      totals.append(
          String.format(
              "%-10s %,12d %,18d %,16d%n", name, s.parameters(), inNorms, s.bufferValues()));
    }
    System.out.print(totals);
    return 0;
  }
}
