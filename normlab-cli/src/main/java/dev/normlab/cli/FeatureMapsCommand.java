package dev.normlab.cli;

import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.io.Checkpoint;
import dev.normlab.track.store.Column;
import dev.normlab.track.store.GreyImage;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.train.FeatureMaps;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code normlab feature-maps}: what each run's norms do to a few test images' activations, stored
 * as the run's table {@value #TABLE} (a row per image and norm layer, with the norm's input and
 * output as grid images) and the summary keys {@code feature_maps/norm1/between_channels} and
 * {@code feature_maps/norm2/between_channels}.
 */
@Command(
    name = "feature-maps",
    mixinStandardHelpOptions = true,
    description = {
      "What each norm does to a few test images' activations: for each stored run's checkpoint,"
          + " each image's conv1/conv2 outputs (what norm1/norm2 see) and norm1/norm2 outputs,"
          + " every channel a tile of a grey grid (zero mid grey, positive light, negative dark),"
          + " with their scale, mean, std and the share of their variance that lies between the"
          + " channels' means (Instance Norm takes it to about 0, Layer Norm keeps the conv's).",
      "Each run gets the table "
          + FeatureMapsCommand.TABLE
          + " (the dashboard's Tables tab) and"
          + " the summary keys feature_maps/norm1/between_channels and"
          + " feature_maps/norm2/between_channels (the mean over the images of the norm output's).",
      "Example: normlab feature-maps --group compare-mnist-2026-12-02T03-10-00 --example-ids 3,17,42"
    })
final class FeatureMapsCommand implements Callable<Integer> {
  /** The table each run gets. */
  static final String TABLE = "feature_maps";

  /** The table's columns: a row per example and norm layer. */
  static final List<Column> COLUMNS =
      List.of(
          Column.number("example_id"),
          Column.number("label"),
          Column.number("predicted"),
          Column.text("layer"),
          Column.image("input"),
          Column.image("output"),
          Column.number("input_between_channels"),
          Column.number("output_between_channels"),
          Column.number("input_mean"),
          Column.number("input_std"),
          Column.number("output_mean"),
          Column.number("output_std"),
          Column.number("input_channel_mean_sd"),
          Column.number("output_channel_mean_sd"),
          Column.number("input_scale"),
          Column.number("output_scale"));

  private static final int DEFAULT_EXAMPLES = 8;

  @Spec CommandSpec spec;

  @Mixin RunsEditCommands.CheckpointedRuns chosen = new RunsEditCommands.CheckpointedRuns();

  // no picocli default: it could not tell "--examples 8" from nothing beside --example-ids
  @Option(
      names = "--examples",
      paramLabel = "N",
      description = "the first N test images (default: " + DEFAULT_EXAMPLES + ")")
  Integer examples;

  @Option(
      names = "--example-ids",
      paramLabel = "ID",
      split = ",",
      description = "instead of --examples: these test images, by index (e.g. 3,17,42)")
  List<Integer> exampleIds;

  @Option(names = "--data-dir", description = "directory holding <dataset>/*-ubyte(.gz)")
  Path dataDir;

  /** A run ready to capture: its restored model and its dataset's test images. */
  private record Capture(RunQuery.RunInfo run, EvalCommand.Restored model, Dataset test) {}

  @Override
  public Integer call() throws Exception {
    chosen.check(spec);
    int[] exampleList = exampleList();
    try (RunStore s = RunStore.openExisting(chosen.store.store)) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = chosen.select(s);
      if (runs.isEmpty()) {
        return 1;
      }
      List<Capture> captures = prepare(q, runs, exampleList);
      if (captures.isEmpty()) {
        System.out.println("nothing to capture: no run has a " + chosen.which + " checkpoint");
        return 1;
      }
      String title =
          exampleIds != null
              ? "test images "
                  + Arrays.stream(exampleList)
                      .mapToObj(Integer::toString)
                      .collect(Collectors.joining(","))
              : "the first " + exampleList.length + " test images";
      System.out.printf(
          "the share of each map's variance that lies between its channels' means, each norm's"
              + " input (its conv's output) -> its output,%nmean over %s, %s checkpoints:%n",
          title, chosen.which);
      int runWidth = "run".length();
      for (Capture c : captures) {
        runWidth = Math.max(runWidth, c.run().name().length());
      }
      String row = "%-" + runWidth + "s  %-8s  %6s  %-14s  %s%n";
      System.out.printf(row, "run", "norm", "images", "norm1", "norm2");
      for (Capture c : captures) {
        double[][] shares = captureAndStore(s, c, exampleList);
        System.out.printf(
            row,
            c.run().name(),
            c.model().norm(),
            exampleList.length,
            String.format("%.3f -> %.3f", shares[0][0], shares[0][1]),
            String.format("%.3f -> %.3f", shares[1][0], shares[1][1]));
        System.out.flush();
      }
      printWhere(s, captures, exampleList.length);
    }
    return 0;
  }

  /** The test images to capture, in order: --example-ids', or the first --examples N. */
  private int[] exampleList() {
    if (examples != null && exampleIds != null) {
      throw new ParameterException(
          spec.commandLine(), "give --examples or --example-ids, not both");
    }
    if (exampleIds != null) {
      for (int id : exampleIds) {
        if (id < 0) {
          throw new ParameterException(
              spec.commandLine(), "--example-ids: test image ids start at 0, got " + id);
        }
      }
      return exampleIds.stream().mapToInt(Integer::intValue).toArray();
    }
    int n = examples == null ? DEFAULT_EXAMPLES : examples;
    if (n < 1) {
      throw new ParameterException(spec.commandLine(), "--examples must be at least 1, got " + n);
    }
    return IntStream.range(0, n).toArray();
  }

  /**
   * Each run's model restored and its test images loaded, before anything is written: an example id
   * beyond a test set stops the command with every table as it was. A run without the checkpoint is
   * named and skipped.
   */
  private List<Capture> prepare(RunQuery q, List<RunQuery.RunInfo> runs, int[] exampleList)
      throws Exception {
    Map<String, Dataset> testSets = new HashMap<>();
    List<Capture> out = new ArrayList<>();
    for (RunQuery.RunInfo r : runs) {
      Path file;
      try {
        file = chosen.checkpoint(q, r.id());
      } catch (IllegalArgumentException noCheckpoint) {
        System.out.println("skipped:     " + r.name() + ": " + noCheckpoint.getMessage());
        continue;
      }
      EvalCommand.Restored m = EvalCommand.restore(Checkpoint.load(file));
      Dataset test = testSets.get(m.dataset());
      if (test == null) {
        test =
            Datasets.builder()
                .dataDir(dataDir)
                .build()
                .loadSplit(MnistLike.parse(m.dataset()), false);
        checkExamples(exampleList, m.dataset(), test);
        testSets.put(m.dataset(), test);
      }
      out.add(new Capture(r, m, test));
    }
    return out;
  }

  /** Usage errors for examples beyond the test set of {@code dataset}. */
  private void checkExamples(int[] exampleList, String dataset, Dataset test) {
    if (exampleIds == null && exampleList.length > test.size()) {
      throw new ParameterException(
          spec.commandLine(),
          "--examples "
              + exampleList.length
              + ": "
              + dataset
              + " has "
              + test.size()
              + " test images");
    }
    for (int id : exampleList) {
      if (id >= test.size()) {
        throw new ParameterException(
            spec.commandLine(),
            "--example-ids: no test image "
                + id
                + " in "
                + dataset
                + " (its ids are 0 to "
                + (test.size() - 1)
                + ")");
      }
    }
  }

  /**
   * Captures one run's feature maps, writes its table and summary keys; returns each layer's mean
   * between-channel share over the examples, of the norm's input and of its output.
   */
  private static double[][] captureAndStore(RunStore s, Capture c, int[] exampleList) {
    MnistLike which = MnistLike.parse(c.model().dataset());
    List<FeatureMaps.Example> examples =
        FeatureMaps.capture(
            c.model().model(), FeatureMaps.testImages(c.test(), which, exampleList));
    List<Object[]> rows = new ArrayList<>();
    double[][] shares = new double[2][2];
    for (int i = 0; i < examples.size(); i++) {
      FeatureMaps.Example e = examples.get(i);
      for (int k = 0; k < e.layers().size(); k++) {
        FeatureMaps.Layer layer = e.layers().get(k);
        FeatureMaps.Stats in = layer.input().stats();
        FeatureMaps.Stats out = layer.output().stats();
        rows.add(
            new Object[] {
              exampleList[i],
              c.test().labels()[exampleList[i]],
              e.predicted(),
              layer.name(),
              image(layer.input().grid()),
              image(layer.output().grid()),
              in.betweenChannelShare(),
              out.betweenChannelShare(),
              in.mean(),
              in.std(),
              out.mean(),
              out.std(),
              in.channelMeanSd(),
              out.channelMeanSd(),
              in.scale(),
              out.scale()
            });
        shares[k][0] += in.betweenChannelShare() / examples.size();
        shares[k][1] += out.betweenChannelShare() / examples.size();
      }
    }
    s.writeTable(c.run().id(), TABLE, COLUMNS, rows);
    Map<String, Double> summary = new LinkedHashMap<>();
    summary.put(summaryKey(1), shares[0][1]);
    summary.put(summaryKey(2), shares[1][1]);
    s.updateSummary(c.run().id(), summary);
    return shares;
  }

  /** The summary key of layer {@code n}'s mean between-channel share after the norm. */
  static String summaryKey(int n) {
    return "feature_maps/norm" + n + "/between_channels";
  }

  private static GreyImage image(FeatureMaps.Grid g) {
    return new GreyImage(g.width(), g.height(), g.pixels());
  }

  private void printWhere(RunStore s, List<Capture> captures, int exampleCount) {
    String storeOption = Tracking.storeOption(s.file());
    System.out.printf(
        "saved:       table %s (%d rows: norm1 and norm2 of each image) and summary keys %s, %s"
            + " of %d runs in %s%n",
        TABLE, 2 * exampleCount, summaryKey(1), summaryKey(2), captures.size(), s.file());
    System.out.println(
        "tables:      ./normlab serve"
            + storeOption
            + ", then the Tables tab (every run's rows):"
            + " http://127.0.0.1:8080/#tables?run="
            + captures.get(0).run().id()
            + "&table="
            + TABLE
            + "&all=1");
    System.out.println(
        "compare:     http://127.0.0.1:8080/#parallel?metrics=test/accuracy,"
            + summaryKey(1)
            + ","
            + summaryKey(2));
    Set<String> groups = new LinkedHashSet<>();
    for (Capture c : captures) {
      if (c.run().group() != null) {
        groups.add(c.run().group());
      }
    }
    for (String g : groups) {
      System.out.println(
          "report:      ./normlab report --group "
              + Main.shellWord(g)
              + storeOption
              + " --out report.html");
    }
  }
}
