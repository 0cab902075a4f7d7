package dev.normlab.examples.figures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code normlab compare} wrote to {@code <out>/results/<group>/metrics.csv}: per norm, the
 * loss of every training step and the metrics of every epoch.
 */
public record CompareResults(Map<String, Run> runs) {
  /** One norm's run. */
  public record Run(String norm, List<double[]> steps, List<Epoch> epochs) {
    public Epoch last() {
      return epochs.get(epochs.size() - 1);
    }
  }

  /** One epoch's row. */
  public record Epoch(
      int epoch,
      long step,
      double trainLoss,
      double testLoss,
      double testAccuracy,
      double imagesPerSecond,
      double seconds) {}

  public static Path metricsFile(Path outDir, String group) {
    return outDir.resolve("results").resolve(group).resolve("metrics.csv");
  }

  /** Parses the CSV; a missing file or a run without an epoch row is one clear error. */
  public static CompareResults read(Path csv) throws IOException {
    if (!Files.exists(csv)) {
      throw new IllegalArgumentException(
          "no compare results at " + csv + " (run ./normlab compare with the same --out/--group)");
    }
    List<String> lines = Files.readAllLines(csv);
    Map<String, List<double[]>> steps = new LinkedHashMap<>();
    Map<String, List<Epoch>> epochs = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("norm,")) {
        continue;
      }
      String[] f = line.split(",", -1);
      if (f.length < 7) {
        throw new IllegalArgumentException(csv + ":" + (i + 1) + ": expected 9 columns: " + line);
      }
      String norm = f[0];
      steps.computeIfAbsent(norm, k -> new ArrayList<>());
      epochs.computeIfAbsent(norm, k -> new ArrayList<>());
      if (f[1].equals("step")) {
        steps.get(norm).add(new double[] {Double.parseDouble(f[3]), Double.parseDouble(f[4])});
      } else {
        epochs
            .get(norm)
            .add(
                new Epoch(
                    Integer.parseInt(f[2]),
                    Long.parseLong(f[3]),
                    Double.parseDouble(f[4]),
                    Double.parseDouble(f[5]),
                    Double.parseDouble(f[6]),
                    f.length > 7 && !f[7].isEmpty() ? Double.parseDouble(f[7]) : Double.NaN,
                    f.length > 8 && !f[8].isEmpty() ? Double.parseDouble(f[8]) : Double.NaN));
      }
    }
    Map<String, Run> runs = new LinkedHashMap<>();
    for (String norm : steps.keySet()) {
      if (epochs.get(norm).isEmpty()) {
        throw new IllegalArgumentException(
            csv + ": the " + norm + " run has no finished epoch (still running or failed?)");
      }
      runs.put(norm, new Run(norm, steps.get(norm), epochs.get(norm)));
    }
    if (runs.isEmpty()) {
      throw new IllegalArgumentException(csv + ": no runs");
    }
    return new CompareResults(runs);
  }

  /** The final-epoch table as markdown. */
  public String markdownTable() {
    StringBuilder sb = new StringBuilder();
    sb.append("| norm | test accuracy (%) | test loss | train loss (epoch mean) | images/s |")
        .append(" epoch time (s) |\n");
    sb.append("|---|---:|---:|---:|---:|---:|\n");
    for (Run r : runs.values()) {
      Epoch e = r.last();
      sb.append(
          String.format(
              java.util.Locale.ROOT,
              "| %s | %.2f | %.4f | %.4f | %.0f | %.1f |%n",
              r.norm(),
              e.testAccuracy(),
              e.testLoss(),
              e.trainLoss(),
              e.imagesPerSecond(),
              e.seconds()));
    }
    return sb.toString();
  }
}
