package dev.normlab.cli;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.io.Checkpoint;
import dev.normlab.io.Json;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code normlab eval}: test-set accuracy and loss of a checkpoint. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = "Evaluate a checkpoint of the reference CNN on the test set.")
final class EvalCommand implements Callable<Integer> {
  @Option(
      names = "--checkpoint",
      description = "a .safetensors checkpoint written by train/compare")
  Path checkpoint;

  @Option(
      names = "--run",
      paramLabel = "ID",
      description =
          "instead of --checkpoint: a run in the store (id or unique prefix), its best"
              + " checkpoint (see --which)")
  String run;

  @Option(
      names = "--which",
      defaultValue = "best",
      description = "with --run: best (the best epoch's) or last (default: ${DEFAULT-VALUE})")
  String which;

  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "with --run: the run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Spec CommandSpec spec;

  @Option(names = "--dataset", description = "override the dataset recorded in the checkpoint")
  String dataset;

  @Option(names = "--data-dir", description = "directory holding <dataset>/*-ubyte(.gz)")
  Path dataDir;

  @Option(
      names = "--limit-test",
      defaultValue = "0",
      description = "evaluate on the first N test images (0 = all)")
  int limitTest;

  /** The run's {@code best.safetensors} (or last) in the checkpoint directory its config names. */
  private Path checkpointOf(String idOrPrefix) {
    try (RunStore s = RunStore.openExisting(store)) {
      RunQuery q = s.query();
      return RunsEditCommands.checkpointFile(
          q, RunsEditCommands.resolve(q, idOrPrefix).id(), which);
    }
  }

  /** A checkpoint's reference CNN, with the norm and dataset its config records. */
  record Restored(ReferenceCnn model, String norm, String dataset) {}

  @SuppressWarnings("unchecked")
  static Restored restore(Checkpoint c) throws Exception {
    Map<String, Object> config =
        c.info().configJson() == null
            ? Map.of()
            : (Map<String, Object>) Json.parse(c.info().configJson());
    String norm = String.valueOf(config.getOrDefault("norm", "batch"));
    int groups = ((Number) config.getOrDefault("groups", 8)).intValue();
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), groups, new Rng(0));
    c.restoreModel(model, true);
    return new Restored(model, norm, String.valueOf(config.getOrDefault("dataset", "mnist")));
  }

  @Override
  public Integer call() throws Exception {
    if ((checkpoint == null) == (run == null)) {
      throw new ParameterException(spec.commandLine(), "give --checkpoint FILE or --run ID");
    }
    if (!which.equals("best") && !which.equals("last")) {
      throw new ParameterException(
          spec.commandLine(), "--which must be best or last, got " + which);
    }
    if (run != null) {
      checkpoint = checkpointOf(run);
    }
    if (Files.isDirectory(checkpoint)) {
      // a run's checkpoint folder: name its files rather than say there is nothing
      try (var files = Files.list(checkpoint)) {
        String names =
            String.join(
                ", ",
                files
                    .map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors"))
                    .sorted()
                    .toList());
        throw new IllegalArgumentException(
            checkpoint
                + " is a folder; pass one checkpoint file"
                + (names.isEmpty() ? " (it holds none)" : " in it: " + names));
      }
    }
    if (!Files.isRegularFile(checkpoint)) {
      throw new IllegalArgumentException("no such checkpoint: " + checkpoint);
    }
    Checkpoint c = Checkpoint.load(checkpoint);
    Restored restored = restore(c);
    ReferenceCnn model = restored.model();
    String norm = restored.norm();
    String ds = dataset != null ? dataset : restored.dataset();
    MnistLike which = MnistLike.parse(ds);
    Dataset test = Datasets.builder().dataDir(dataDir).build().loadSplit(which, false);
    if (limitTest > 0 && limitTest < test.size()) {
      test = test.head(limitTest);
    }
    try (DataLoader l =
        DataLoader.builder(test)
            .batchSize(1000)
            .shuffle(false)
            .transform(Transforms.standard(which))
            .build()) {
      Trainer.Evaluation ev = Trainer.evaluate(model, l, test.numClasses(), null);
      System.out.printf(
          "checkpoint %s (norm %s, epoch %d): test acc %.2f%%  test loss %.4f on %d %s images%n",
          checkpoint, norm, c.info().epoch(), ev.accuracy(), ev.loss(), test.size(), ds);
      for (int k = 0; k < ev.perClassAccuracy().length; k++) {
        System.out.printf(
            "  class %-6s %.2f%%%n", which.classes().get(k), ev.perClassAccuracy()[k]);
      }
    }
    return 0;
  }
}
