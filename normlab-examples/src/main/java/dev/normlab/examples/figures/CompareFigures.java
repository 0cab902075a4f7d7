package dev.normlab.examples.figures;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Dataset;
import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.data.Transforms;
import dev.normlab.io.Checkpoint;
import dev.normlab.kernels.Parallel;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import dev.normlab.train.Predictions;
import dev.normlab.train.Trainer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guide's figures of a {@code normlab compare} run, drawn from what compare wrote: the
 * training-loss curves and final test accuracy ({@code metrics.csv}), a parallel-coordinates plot
 * of the final metrics, the final table (markdown), and a grid of misclassified test images per
 * norm, predicted by each run's {@code best.safetensors}.
 *
 * <p>Usage: {@code CompareFigures --out DIR --group G --prefix P [--img docs/img] [--threads T]
 * [--data-dir D] [--mistakes K]}. Writes {@code <img>/<P>-curves.png}, {@code -parallel.png},
 * {@code -mistakes.png} and {@code -table.md}.
 */
public final class CompareFigures {
  private CompareFigures() {}

  public static final int CURVES_WIDTH = 1100;
  public static final int CURVES_HEIGHT = 400;

  /** Training loss per step (moving average) and final test accuracy per norm. */
  public static BufferedImage curves(CompareResults results, String title) {
    BufferedImage img = Images.canvas(CURVES_WIDTH, CURVES_HEIGHT);
    Graphics2D g = Images.graphics(img);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, 20, 26);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    // Left: loss curves.
    int lx = 70, ly = 60, lw = 560, lh = 280;
    double maxStep = 1;
    double maxLoss = 0;
    List<double[][]> smoothed = new ArrayList<>();
    for (CompareResults.Run r : results.runs().values()) {
      double[][] s = movingAverage(r.steps(), 20);
      smoothed.add(s);
      for (double[] p : s) {
        maxStep = Math.max(maxStep, p[0]);
        maxLoss = Math.max(maxLoss, p[1]);
      }
    }
    maxLoss = niceCeil(Math.min(maxLoss, 2.5));
    axes(g, lx, ly, lw, lh, 0, maxStep, 0, maxLoss, "step", "train loss (20-step moving average)");
    int i = 0;
    for (CompareResults.Run r : results.runs().values()) {
      double[][] s = smoothed.get(i);
      Path2D.Double path = new Path2D.Double();
      for (int k = 0; k < s.length; k++) {
        double x = lx + lw * s[k][0] / maxStep;
        double y = ly + lh - lh * Math.min(s[k][1], maxLoss) / maxLoss;
        if (k == 0) {
          path.moveTo(x, y);
        } else {
          path.lineTo(x, y);
        }
      }
      g.setColor(Images.color(i));
      g.setStroke(new BasicStroke(2f));
      g.draw(path);
      g.fillRect(lx + lw - 110, ly + 8 + 18 * i, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(r.norm(), lx + lw - 92, ly + 19 + 18 * i);
      i++;
    }
    // Right: final test accuracy bars, zoomed on the range that separates them.
    int bx = 760, by = 60, bw = 300, bh = 280;
    double lo = 100, hi = 0;
    for (CompareResults.Run r : results.runs().values()) {
      lo = Math.min(lo, r.last().testAccuracy());
      hi = Math.max(hi, r.last().testAccuracy());
    }
    double axisLo = Math.max(0, Math.floor(lo - 2));
    double axisHi = Math.min(100, Math.ceil(hi + 1));
    axes(g, bx, by, bw, bh, Double.NaN, Double.NaN, axisLo, axisHi, "", "final test accuracy (%)");
    int n = results.runs().size();
    double slot = (double) bw / n;
    i = 0;
    for (CompareResults.Run r : results.runs().values()) {
      double acc = r.last().testAccuracy();
      int h = (int) Math.round(bh * (acc - axisLo) / (axisHi - axisLo));
      int x = (int) Math.round(bx + slot * i + slot * 0.15);
      int w = (int) Math.round(slot * 0.7);
      g.setColor(Images.color(i));
      g.fillRect(x, by + bh - h, w, h);
      g.setColor(Color.BLACK);
      g.drawString(String.format(Locale.ROOT, "%.2f", acc), x, by + bh - h - 4);
      g.drawString(r.norm(), x, by + bh + 16);
      i++;
    }
    g.dispose();
    return img;
  }

  /** One polyline per norm over the axes: train loss, test loss, test accuracy, images/s. */
  public static BufferedImage parallel(CompareResults results, String title) {
    int width = 900, height = 380;
    BufferedImage img = Images.canvas(width, height);
    Graphics2D g = Images.graphics(img);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, 20, 26);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    String[] names = {"train loss", "test loss", "test accuracy (%)", "images/s"};
    List<CompareResults.Run> runs = new ArrayList<>(results.runs().values());
    double[][] values = new double[runs.size()][];
    for (int r = 0; r < runs.size(); r++) {
      CompareResults.Epoch e = runs.get(r).last();
      values[r] = new double[] {e.trainLoss(), e.testLoss(), e.testAccuracy(), e.imagesPerSecond()};
    }
    int top = 70, bottom = height - 50, left = 80, right = width - 170;
    double step = (right - left) / (names.length - 1.0);
    double[] lo = new double[names.length];
    double[] hi = new double[names.length];
    for (int a = 0; a < names.length; a++) {
      lo[a] = Double.POSITIVE_INFINITY;
      hi[a] = Double.NEGATIVE_INFINITY;
      for (double[] v : values) {
        lo[a] = Math.min(lo[a], v[a]);
        hi[a] = Math.max(hi[a], v[a]);
      }
      double pad = Math.max((hi[a] - lo[a]) * 0.1, Math.abs(hi[a]) * 1e-3 + 1e-9);
      lo[a] -= pad;
      hi[a] += pad;
      int x = (int) Math.round(left + a * step);
      g.setColor(Color.GRAY);
      g.drawLine(x, top, x, bottom);
      g.setColor(Color.BLACK);
      g.drawString(names[a], x - 30, top - 22);
      g.drawString(fmt(hi[a]), x + 4, top + 4);
      g.drawString(fmt(lo[a]), x + 4, bottom);
    }
    for (int r = 0; r < runs.size(); r++) {
      Path2D.Double path = new Path2D.Double();
      for (int a = 0; a < names.length; a++) {
        double x = left + a * step;
        double y = bottom - (bottom - top) * (values[r][a] - lo[a]) / (hi[a] - lo[a]);
        if (a == 0) {
          path.moveTo(x, y);
        } else {
          path.lineTo(x, y);
        }
      }
      g.setColor(Images.color(r));
      g.setStroke(new BasicStroke(2.5f));
      g.draw(path);
      g.fillRect(width - 140, top + 20 * r, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(runs.get(r).norm(), width - 122, top + 11 + 20 * r);
    }
    g.dispose();
    return img;
  }

  /** A few mistakes of one run: the most confident wrong predictions, with true -> predicted. */
  public record Mistakes(String norm, Predictions predictions, int[] indices) {}

  public static Mistakes mistakes(
      Path checkpoint, String norm, Dataset test, MnistLike which, int count) throws IOException {
    Checkpoint c = Checkpoint.load(checkpoint);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), groupsOf(c), new Rng(0));
    c.restoreModel(model, true);
    Predictions.Builder sink =
        new Predictions.Builder(test, which.classes().toArray(String[]::new));
    try (DataLoader loader =
        DataLoader.builder(test).batchSize(256).transform(Transforms.standard(which)).build()) {
      Trainer.evaluate(model, loader, test.numClasses(), sink);
    }
    Predictions p = sink.build();
    List<Integer> wrong = new ArrayList<>();
    for (int i = 0; i < p.size(); i++) {
      if (p.predicted()[i] != p.labels()[i]) {
        wrong.add(i);
      }
    }
    wrong.sort((a, b) -> Float.compare(p.confidence(b), p.confidence(a)));
    int[] chosen = wrong.stream().limit(count).mapToInt(Integer::intValue).toArray();
    return new Mistakes(norm, p, chosen);
  }

  /** GroupNorm's group count from the checkpoint's config (8, compare's default, if absent). */
  static int groupsOf(Checkpoint c) {
    String json = c.info().configJson();
    if (json != null) {
      Matcher m = Pattern.compile("\"groups\"\\s*:\\s*(\\d+)").matcher(json);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    return 8;
  }

  /** One row of mistakes per norm: each image scaled 3x, captioned "true ->" / "predicted (p)". */
  public static BufferedImage mistakesGrid(List<Mistakes> rows, String title) {
    int scale = 3, cell = 28 * scale, gapX = 22, capH = 34, labelW = 90;
    int cols = 0;
    for (Mistakes m : rows) {
      cols = Math.max(cols, m.indices().length);
    }
    Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    int titleWidth =
        Images.canvas(1, 1).createGraphics().getFontMetrics(titleFont).stringWidth(title);
    int width = Math.max(labelW + Math.max(1, cols) * (cell + gapX) + 10, titleWidth + 30);
    int height = 40 + rows.size() * (cell + capH + 8);
    BufferedImage img = Images.canvas(width, height);
    Graphics2D g = Images.graphics(img);
    g.setColor(Color.BLACK);
    g.setFont(titleFont);
    g.drawString(title, 10, 24);
    for (int r = 0; r < rows.size(); r++) {
      Mistakes m = rows.get(r);
      int y = 40 + r * (cell + capH + 8);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      g.drawString(m.norm(), 10, y + cell / 2);
      g.setFont(small);
      Predictions p = m.predictions();
      String[] cls = p.classNames();
      for (int k = 0; k < m.indices().length; k++) {
        int i = m.indices()[k];
        int x = labelW + k * (cell + gapX);
        g.drawImage(Images.grey(p.images()[i], p.rows(), p.cols(), scale), x, y, null);
        g.setColor(Color.DARK_GRAY);
        g.drawString(cls[p.labels()[i]] + " \u2192", x, y + cell + 13);
        g.setColor(new Color(0xB03030));
        g.drawString(
            String.format(Locale.ROOT, "%s (%.2f)", cls[p.predicted()[i]], p.confidence(i)),
            x,
            y + cell + 27);
      }
    }
    g.dispose();
    return img;
  }

  private static double[][] movingAverage(List<double[]> steps, int window) {
    double[][] out = new double[steps.size()][];
    double sum = 0;
    for (int k = 0; k < steps.size(); k++) {
      sum += steps.get(k)[1];
      if (k >= window) {
        sum -= steps.get(k - window)[1];
      }
      out[k] = new double[] {steps.get(k)[0], sum / Math.min(k + 1, window)};
    }
    return out;
  }

  private static double niceCeil(double v) {
    return v <= 0 ? 1 : Math.ceil(v * 4) / 4;
  }

  private static String fmt(double v) {
    return Math.abs(v) >= 100
        ? String.format(Locale.ROOT, "%.0f", v)
        : String.format(Locale.ROOT, "%.3f", v);
  }

  private static void axes(
      Graphics2D g,
      int x,
      int y,
      int w,
      int h,
      double x0,
      double x1,
      double y0,
      double y1,
      String xLabel,
      String yLabel) {
    g.setColor(new Color(0xDDDDDD));
    for (int t = 0; t <= 4; t++) {
      int yy = y + h - h * t / 4;
      g.drawLine(x, yy, x + w, yy);
    }
    g.setColor(Color.BLACK);
    g.drawLine(x, y + h, x + w, y + h);
    g.drawLine(x, y, x, y + h);
    for (int t = 0; t <= 4; t++) {
      int yy = y + h - h * t / 4;
      g.drawString(fmt(y0 + (y1 - y0) * t / 4), x - 48, yy + 4);
    }
    if (!Double.isNaN(x1)) {
      for (int t = 0; t <= 4; t++) {
        int xx = x + w * t / 4;
        g.drawString(
            String.format(Locale.ROOT, "%.0f", x0 + (x1 - x0) * t / 4), xx - 10, y + h + 16);
      }
      g.drawString(xLabel, x + w / 2 - 12, y + h + 34);
    }
    g.drawString(yLabel, x, y - 10);
  }

  public static void main(String[] args) {
    try {
      draw(args);
    } catch (IllegalArgumentException | IOException e) {
      fail(e.getMessage()); // one clear line, no stack trace
    }
  }

  private static void draw(String[] args) throws IOException {
    Path out = Path.of("normlab-runs");
    String group = null;
    String prefix = null;
    Path imgDir = Path.of("docs", "img");
    Integer threads = null;
    Path dataDir = null;
    int count = 8;
    String dataset = "mnist";
    String label = null;
    for (int a = 0; a < args.length; a++) {
      String v = a + 1 < args.length ? args[a + 1] : null;
      switch (args[a]) {
        case "--out" -> out = Path.of(require(v, "--out"));
        case "--group" -> group = require(v, "--group");
        case "--prefix" -> prefix = require(v, "--prefix");
        case "--img" -> imgDir = Path.of(require(v, "--img"));
        case "--threads" -> threads = intArg(v, "--threads");
        case "--data-dir" -> dataDir = Path.of(require(v, "--data-dir"));
        case "--mistakes" -> count = intArg(v, "--mistakes");
        case "--dataset" -> dataset = require(v, "--dataset");
        case "--label" -> label = require(v, "--label");
        default -> fail("unknown argument " + args[a]);
      }
      a++;
    }
    if (group == null || prefix == null) {
      fail("usage: CompareFigures --out DIR --group G --prefix P [--dataset D] [--img DIR]");
    }
    if (threads != null) {
      Parallel.setThreads(threads);
    }
    String what = label != null ? label : dataset;
    {
      CompareResults results = CompareResults.read(CompareResults.metricsFile(out, group));
      Files.createDirectories(imgDir);
      Images.writePng(
          curves(results, "normlab compare on " + what), imgDir.resolve(prefix + "-curves.png"));
      Images.writePng(
          parallel(results, "final metrics per norm, " + what),
          imgDir.resolve(prefix + "-parallel.png"));
      Files.writeString(imgDir.resolve(prefix + "-table.md"), results.markdownTable());
      MnistLike which = MnistLike.parse(dataset);
      Dataset test = Datasets.builder().dataDir(dataDir).build().loadSplit(which, false);
      List<Mistakes> rows = new ArrayList<>();
      for (String norm : results.runs().keySet()) {
        Path best =
            out.resolve("checkpoints").resolve(group + "-" + norm).resolve("best.safetensors");
        rows.add(mistakes(best, norm, test, which, count));
      }
      Images.writePng(
          mistakesGrid(
              rows,
              "most confident mistakes on the test set, " + what + " (true \u2192 predicted)"),
          imgDir.resolve(prefix + "-mistakes.png"));
      System.out.print(results.markdownTable());
      System.out.println("figures: " + imgDir.resolve(prefix + "-*.png"));
    }
  }

  private static int intArg(String v, String flag) {
    try {
      return Integer.parseInt(require(v, flag));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a whole number, got '" + v + "'");
    }
  }

  private static String require(String v, String flag) {
    if (v == null) {
      fail(flag + " needs a value");
    }
    return v;
  }

  private static void fail(String message) {
    System.err.println("CompareFigures: error: " + message);
    System.exit(2);
  }
}
