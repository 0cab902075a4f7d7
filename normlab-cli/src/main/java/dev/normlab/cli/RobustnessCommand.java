package dev.normlab.cli;

import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.InputShift;
import dev.normlab.data.MnistLike;
import dev.normlab.io.Checkpoint;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.train.Predictions;
import dev.normlab.train.Robustness;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code normlab robustness}: stored runs' test accuracy when the test images' brightness or
 * contrast changes, noise is added or they are inverted; the accuracies go into each run's summary
 * as {@code robustness/<shift>}.
 */
@Command(
    name = "robustness",
    mixinStandardHelpOptions = true,
    description = {
      "Test accuracy of stored runs' checkpoints on shifted test images (darker, lower or higher"
          + " contrast, noisy, inverted): how each norm takes inputs unlike its training data.",
      "Each accuracy goes into the run's summary as robustness/<shift> (dashboard columns and"
          + " parallel axes).",
      "Example: normlab robustness --group compare-mnist-2026-12-02T03-10-00"
    })
final class RobustnessCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin RunsEditCommands.CheckpointedRuns chosen = new RunsEditCommands.CheckpointedRuns();

  @Option(
      names = "--shifts",
      paramLabel = "LIST",
      description =
          "comma-separated: brightness=F (F·x), contrast=F (F·x + (1-F)·mean), noise=SIGMA"
              + " (x + SIGMA·N(0,1)), invert (1-x), on pixels in [0,1], clipped to [0,1]"
              + " (default: "
              + InputShift.DEFAULT_SPECS
              + ")")
  String shifts;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "seed of the noise, the same for every run (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--adapt-bn",
      description =
          "also evaluate each Batch Norm run with its running statistics re-estimated on the"
              + " shifted test images themselves (no labels; AdaBN): rows '(adapted)', keys"
              + " robustness/adapted/<shift>")
  boolean adaptBn;

  @Option(
      names = "--no-predictions",
      description =
          "store the accuracies only (by default each run's prediction of every shifted test"
              + " image is stored too, with the images once per shift, for the dashboard's"
              + " Predictions view)")
  boolean noPredictions;

  @Option(names = "--data-dir", description = "directory holding <dataset>/*-ubyte(.gz)")
  Path dataDir;

  @Option(
      names = "--limit-test",
      defaultValue = "0",
      description = "evaluate on the first N test images (0 = all); not saved to the store")
  int limitTest;

  @Override
  public Integer call() throws Exception {
    chosen.check(spec);
    List<InputShift> shiftList;
    try {
      shiftList = shifts == null ? InputShift.defaults() : InputShift.parseList(shifts);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    boolean save = limitTest == 0;
    try (RunStore s = RunStore.openExisting(chosen.store.store)) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = chosen.select(s);
      if (runs.isEmpty()) {
        return 1;
      }
      // every checkpoint is found before anything is evaluated: a missing one stops it at once
      Map<String, Path> files = new LinkedHashMap<>();
      for (RunQuery.RunInfo r : runs) {
        files.put(r.id(), chosen.checkpoint(q, r.id()));
      }
      Map<String, Dataset> testSets = new HashMap<>();
      List<String[]> rows = new ArrayList<>();
      // the runs that differ only in their seed (compare --seeds: <group>-<norm>-s<seed>)
      Map<String, List<double[]>> bySetting = new LinkedHashMap<>();
      Map<String, String> normOf = new HashMap<>();
      List<InputShift> columns = null;
      List<String[]> answers = new ArrayList<>(); // each run's most frequent answer on each set
      int done = 0;
      for (RunQuery.RunInfo r : runs) {
        done++;
        EvalCommand.Restored m = EvalCommand.restore(Checkpoint.load(files.get(r.id())));
        MnistLike ds = MnistLike.parse(m.dataset());
        Dataset test = testSets.get(m.dataset());
        if (test == null) {
          test = load(ds);
          testSets.put(m.dataset(), test);
        }
        String setting = r.name().replaceFirst("-s\\d+$", "");
        List<Boolean> passes =
            adaptBn && m.model().norm() == ReferenceCnn.Norm.BATCH
                ? List.of(false, true)
                : List.of(false);
        Map<String, Double> summary = new LinkedHashMap<>();
        for (boolean adapt : passes) {
          String suffix = adapt ? " (adapted)" : "";
          String progress = String.format("[%d/%d] %s%s:", done, runs.size(), r.name(), suffix);
          List<Robustness.Result> results =
              evaluate(progress, m.model(), test, ds, shiftList, adapt, !noPredictions);
          columns = results.stream().map(Robustness.Result::shift).toList();
          List<String> row = new ArrayList<>(List.of(r.name() + suffix, m.norm()));
          List<String> answerRow = new ArrayList<>(row);
          double[] acc = new double[results.size()];
          for (int i = 0; i < acc.length; i++) {
            Robustness.Result res = results.get(i);
            acc[i] = res.evaluation().accuracy();
            row.add(String.format("%.2f", acc[i]));
            String set = (adapt ? "adapted/" : "") + res.shift().key(); // as in the dashboard
            summary.put("robustness/" + set, acc[i]);
            if (res.predictions() != null) {
              answerRow.add(mostFrequentAnswer(res.predictions()));
            }
            if (save && res.predictions() != null) {
              s.writeShiftedPredictions(
                  r.id(), set, imageSet(m.dataset(), res.shift()), acc[i], res.predictions());
            }
          }
          rows.add(row.toArray(String[]::new));
          if (!noPredictions) {
            answers.add(answerRow.toArray(String[]::new));
          }
          bySetting.computeIfAbsent(setting + suffix, k -> new ArrayList<>()).add(acc);
          normOf.put(setting + suffix, m.norm());
        }
        if (save) {
          s.updateSummary(r.id(), summary);
        }
      }
      System.out.println();
      System.out.printf(
          "test accuracy (%%) of each run's %s checkpoint on %s test images, clean and shifted"
              + " (pixels in [0,1]; noise seed %d):%n",
          chosen.which, limitTest > 0 ? "the first " + limitTest : "all", seed);
      System.out.print(table(columns, rows));
      if (bySetting.values().stream().anyMatch(l -> l.size() > 1)) {
        System.out.println();
        System.out.println("mean ±standard deviation over the seeds:");
        System.out.print(table(columns, seedMeans(bySetting, normOf)));
      }
      if (!answers.isEmpty()) {
        System.out.println();
        System.out.println(
            "most frequent answer on each set, and its share of the images (an even spread is"
                + " 100 % / classes):");
        System.out.print(table(columns, answers));
      }
      if (save) {
        String keys =
            columns.stream().map(c -> "robustness/" + c.key()).collect(Collectors.joining(","));
        System.out.printf(
            "saved:       robustness/<shift> in the summaries of %d runs%s in %s%n",
            runs.size(),
            !noPredictions ? ", and their predictions on each shifted set" : "",
            s.file());
        System.out.println(
            "compare:     ./normlab serve, then http://127.0.0.1:8080/#parallel?metrics=" + keys);
        if (!noPredictions) {
          InputShift last = columns.get(columns.size() - 1);
          System.out.println(
              "mistakes:    http://127.0.0.1:8080/#predictions?run="
                  + runs.get(0).id()
                  + "&set="
                  + last.key());
        }
      } else {
        System.out.println("not saved:   --limit-test evaluates part of the test set");
      }
    }
    return 0;
  }

  /**
   * One pass over the shifts, each result printed after {@code progress} as soon as it is known.
   */
  private List<Robustness.Result> evaluate(
      String progress,
      ReferenceCnn model,
      Dataset test,
      MnistLike ds,
      List<InputShift> shifts,
      boolean adapt,
      boolean withPredictions) {
    System.out.print(progress);
    System.out.flush();
    List<Robustness.Result> results =
        Robustness.evaluate(
            model,
            test,
            ds,
            shifts,
            seed,
            adapt,
            withPredictions,
            res -> {
              System.out.printf(" %s %.2f", res.shift().spec(), res.evaluation().accuracy());
              System.out.flush();
            });
    System.out.println();
    return results;
  }

  /** The class a run predicted most often on a set, as "3 (50.7 %)" ("8 Bag (33.9 %)"). */
  static String mostFrequentAnswer(Predictions p) {
    int[] counts = new int[p.classNames().length];
    for (int k : p.predicted()) {
      counts[k]++;
    }
    int best = 0;
    for (int k = 1; k < counts.length; k++) {
      if (counts[k] > counts[best]) {
        best = k;
      }
    }
    String name = p.classNames()[best];
    return (name.equals(Integer.toString(best)) ? name : best + " " + name)
        + String.format(" (%.1f %%)", 100.0 * counts[best] / Math.max(1, p.size()));
  }

  /**
   * The name of the test images under a shift: the same for every run evaluated on them (the noise
   * depends on the seed too), so the store keeps them once.
   */
  private String imageSet(String dataset, InputShift shift) {
    return dataset
        + "/"
        + shift.key()
        + (shift.kind() == InputShift.Kind.NOISE ? "/seed=" + seed : "");
  }

  private Dataset load(MnistLike ds) throws java.io.IOException {
    Dataset test = Datasets.builder().dataDir(dataDir).build().loadSplit(ds, false);
    return limitTest > 0 && limitTest < test.size() ? test.head(limitTest) : test;
  }

  /** One row per setting: its name with the seeds' count, the norm, each column's mean ±sd. */
  static List<String[]> seedMeans(
      Map<String, List<double[]>> bySetting, Map<String, String> norms) {
    List<String[]> out = new ArrayList<>();
    bySetting.forEach(
        (setting, accs) -> {
          int n = accs.size();
          List<String> row = new ArrayList<>(List.of(setting + " (" + n + ")", norms.get(setting)));
          for (int c = 0; c < accs.get(0).length; c++) {
            double mean = 0;
            for (double[] a : accs) {
              mean += a[c] / n;
            }
            double ss = 0;
            for (double[] a : accs) {
              ss += (a[c] - mean) * (a[c] - mean);
            }
            double sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
            row.add(String.format("%.2f ±%.2f", mean, sd));
          }
          out.add(row.toArray(String[]::new));
        });
    return out;
  }

  /** Run, norm, then one column per shift, each as wide as its name. */
  static String table(List<InputShift> shifts, List<String[]> rows) {
    List<String> head = new ArrayList<>(List.of("run", "norm"));
    shifts.forEach(s -> head.add(s.spec()));
    int[] width = new int[head.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = head.get(i).length();
      for (String[] r : rows) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    List<String[]> all = new ArrayList<>();
    all.add(head.toArray(String[]::new));
    all.addAll(rows);
    for (String[] r : all) {
      for (int i = 0; i < r.length; i++) {
        String f = i < 2 ? "%-" + width[i] + "s" : "%" + width[i] + "s";
        sb.append(i == 0 ? "" : "  ").append(String.format(f, r[i]));
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
