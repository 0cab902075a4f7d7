package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.data.MnistLike;
import dev.normlab.io.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `normlab feature-maps` over the runs of a small comparison on real MNIST, its table and summary
 * keys read back with plain SQL.
 */
class FeatureMapsCommandTest {
  @TempDir static Path dir;

  /** Run name -> id, in the order they trained. */
  private static final Map<String, String> RUNS = new LinkedHashMap<>();

  private static int[] testLabels;

  @BeforeAll
  static void compare() throws Exception {
    Cli.Result c = Cli.smallSeries("compare", "instance,batch", dir, "--group", "g");
    assertEquals(0, c.exit(), c.all());
    try (Connection db = connect();
        ResultSet rs =
            db.createStatement()
                .executeQuery("SELECT name, id FROM runs WHERE grp = 'g' ORDER BY started_at")) {
      while (rs.next()) {
        RUNS.put(rs.getString(1), rs.getString(2));
      }
    }
    assertEquals(List.of("g-instance", "g-batch"), List.copyOf(RUNS.keySet()));
    testLabels =
        Datasets.builder()
            .dataDir(Cli.sharedDatasets())
            .build()
            .loadSplit(MnistLike.MNIST, false)
            .labels();
  }

  private static Connection connect() throws Exception {
    return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("runs.db"));
  }

  private static Cli.Result featureMaps(String... args) {
    List<String> all =
        new ArrayList<>(List.of("feature-maps", "--store", dir.resolve("runs.db").toString()));
    all.addAll(List.of(args));
    all.addAll(TrackingCliTest.dataDirArgs());
    return Cli.inProcess(all.toArray(String[]::new)).assertNoStackTrace();
  }

  /** The table's column names and types, as {@code name:type}. */
  private static List<String> columns(String runId) throws Exception {
    try (Connection db = connect();
        PreparedStatement st =
            db.prepareStatement("SELECT columns FROM tables WHERE run_id = ? AND name = ?")) {
      st.setString(1, runId);
      st.setString(2, "feature_maps");
      try (ResultSet rs = st.executeQuery()) {
        assertTrue(rs.next(), "no table feature_maps for run " + runId);
        List<String> out = new ArrayList<>();
        for (Object c : (List<?>) Json.parse(rs.getString(1))) {
          Map<?, ?> m = (Map<?, ?>) c;
          out.add(m.get("name") + ":" + m.get("type"));
        }
        return out;
      }
    }
  }

  /** The table's rows in order, each as column name -> value. */
  private static List<Map<String, Object>> rows(String runId) throws Exception {
    List<String> names = columns(runId).stream().map(c -> c.split(":")[0]).toList();
    List<Map<String, Object>> out = new ArrayList<>();
    try (Connection db = connect();
        PreparedStatement st =
            db.prepareStatement(
                "SELECT row, data FROM table_rows WHERE run_id = ? AND name = ? ORDER BY row")) {
      st.setString(1, runId);
      st.setString(2, "feature_maps");
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          assertEquals(out.size(), rs.getInt(1));
          List<?> values = (List<?>) Json.parse(rs.getString(2));
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 0; i < names.size(); i++) {
            row.put(names.get(i), values.get(i));
          }
          out.add(row);
        }
      }
    }
    return out;
  }

  private static Double summary(String runId, String key) throws Exception {
    try (Connection db = connect();
        PreparedStatement st =
            db.prepareStatement("SELECT value FROM summary WHERE run_id = ? AND key = ?")) {
      st.setString(1, runId);
      st.setString(2, key);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getDouble(1) : null;
      }
    }
  }

  /** The checkpoint directory the run's config names. */
  private static Path checkpointDir(String runId) throws Exception {
    try (Connection db = connect();
        PreparedStatement st =
            db.prepareStatement(
                "SELECT value FROM run_config WHERE run_id = ? AND key = 'checkpoint_dir'")) {
      st.setString(1, runId);
      try (ResultSet rs = st.executeQuery()) {
        assertTrue(rs.next(), "run " + runId + " names no checkpoint directory");
        return Path.of((String) Json.parse(rs.getString(1)));
      }
    }
  }

  private static double number(Map<String, Object> row, String column) {
    return ((Number) row.get(column)).doubleValue();
  }

  /** A stored image cell's pixels, checked to be {@code w x h}. */
  private static BufferedImage image(Object cell, int w, int h) throws Exception {
    Map<?, ?> m = (Map<?, ?>) cell;
    assertEquals(w, ((Number) m.get("w")).intValue());
    assertEquals(h, ((Number) m.get("h")).intValue());
    BufferedImage img =
        ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode((String) m.get("png"))));
    assertEquals(w, img.getWidth());
    assertEquals(h, img.getHeight());
    return img;
  }

  @Test
  void eachRunGetsTwoRowsPerImageAndTheSummaryKeys() throws Exception {
    Cli.Result r = featureMaps("--group", "g", "--examples", "3");
    assertEquals(0, r.exit(), r.all());
    assertTrue(
        r.out()
            .matches(
                "the share of each map's variance that lies between its channels' means, .*\n"
                    + "mean over the first 3 test images, best checkpoints:\n"
                    + "run         norm      images  norm1 +norm2\n"
                    + "g-instance  instance       3  \\d\\.\\d{3} -> \\d\\.\\d{3} +\\d\\.\\d{3} ->"
                    + " \\d\\.\\d{3}\n"
                    + "g-batch     batch          3  \\d\\.\\d{3} -> \\d\\.\\d{3} +\\d\\.\\d{3} ->"
                    + " \\d\\.\\d{3}\n"
                    + "saved:       table feature_maps \\(6 rows: norm1 and norm2 of each image\\)"
                    + " and summary keys feature_maps/norm1/between_channels,"
                    + " feature_maps/norm2/between_channels of 2 runs in .*\n"
                    + "tables:      ./normlab serve --store .*, then the Tables tab \\(every run's"
                    + " rows\\): http://127.0.0.1:8080/#tables\\?run="
                    + RUNS.get("g-instance")
                    + "&table=feature_maps&all=1\n"
                    + "compare: .*\n"
                    + "report:      ./normlab report --group g --store .* --out report.html\n"),
        r.out());
    for (var run : RUNS.entrySet()) {
      String id = run.getValue();
      assertEquals(
          List.of(
              "example_id:number",
              "label:number",
              "predicted:number",
              "layer:text",
              "input:image",
              "output:image",
              "input_between_channels:number",
              "output_between_channels:number",
              "input_mean:number",
              "input_std:number",
              "output_mean:number",
              "output_std:number",
              "input_channel_mean_sd:number",
              "output_channel_mean_sd:number",
              "input_scale:number",
              "output_scale:number"),
          columns(id));
      List<Map<String, Object>> rows = rows(id);
      assertEquals(6, rows.size());
      double[] meanShare = new double[2];
      for (int i = 0; i < rows.size(); i++) {
        Map<String, Object> row = rows.get(i);
        int example = i / 2;
        boolean first = i % 2 == 0;
        assertEquals(example, (int) number(row, "example_id"));
        assertEquals(testLabels[example], (int) number(row, "label"));
        double predicted = number(row, "predicted");
        assertTrue(predicted >= 0 && predicted <= 9 && predicted == Math.rint(predicted));
        assertEquals(first ? "norm1" : "norm2", row.get("layer"));
        // layer 1: 32 tiles of 26 x 26, 8 x 4; layer 2: 64 of 24 x 24, 8 x 8; 1-pixel lines
        int w = first ? 8 * 26 + 7 : 8 * 24 + 7;
        int h = first ? 4 * 26 + 3 : 8 * 24 + 7;
        for (String column : List.of("input", "output")) {
          BufferedImage img = image(row.get(column), w, h);
          int line = first ? 26 : 24; // the line right of the first tile column
          for (int y = 0; y < h; y++) {
            assertEquals(0, img.getRaster().getSample(line, y, 0), column + " line at y " + y);
          }
        }
        assertTrue(number(row, "input_scale") > 0 && number(row, "output_scale") > 0);
        assertTrue(number(row, "input_std") > 0 && number(row, "output_std") > 0);
        // the share is the squared ratio of the two spreads, input and output
        for (String side : List.of("input", "output")) {
          double sd = number(row, side + "_channel_mean_sd") / number(row, side + "_std");
          assertEquals(sd * sd, number(row, side + "_between_channels"), 1e-12, side);
        }
        meanShare[first ? 0 : 1] += number(row, "output_between_channels") / 3;
      }
      assertEquals(meanShare[0], summary(id, "feature_maps/norm1/between_channels"), 1e-12);
      assertEquals(meanShare[1], summary(id, "feature_maps/norm2/between_channels"), 1e-12);
      // the printed output shares are the summary's
      String line =
          r.out().lines().filter(l -> l.startsWith(run.getKey() + " ")).findFirst().orElseThrow();
      assertTrue(
          line.matches(
              String.format(".* -> %.3f +\\d\\.\\d{3} -> %.3f", meanShare[0], meanShare[1])),
          line + " vs " + meanShare[0] + ", " + meanShare[1]);
    }
    // the export writes each run's table as CSV with its grids as PNG files, and counts those
    Path csv = dir.resolve("export-csv");
    Cli.Result export =
        Cli.inProcess(
                "export",
                "--group",
                "g",
                "--store",
                dir.resolve("runs.db").toString(),
                "--format",
                "csv",
                "--out",
                csv.toString())
            .assertNoStackTrace();
    assertEquals(0, export.exit(), export.all());
    assertTrue(
        export.out().contains("wrote 24 table images beside their tables' CSV files"),
        export.out());
    assertTrue(!export.out().contains(".png"), "the images are counted, not listed");
    for (String id : RUNS.values()) {
      Path table = csv.resolve("tables").resolve(id);
      assertEquals(7, Files.readAllLines(table.resolve("feature_maps.csv")).size(), id);
      assertTrue(Files.size(table.resolve("feature_maps").resolve("5_output.png")) > 0, id);
    }
  }

  @Test
  void exampleIdsPickThoseImagesAndAnImagesRowDoesNotDependOnTheOthers() throws Exception {
    String id = RUNS.get("g-batch");
    Cli.Result first = featureMaps(id.substring(0, 6), "--examples", "4");
    assertEquals(0, first.exit(), first.all());
    Map<String, Object> imageThree = rows(id).get(6); // example 3, norm1
    Cli.Result picked = featureMaps(id, "--example-ids", "3,17,42");
    assertEquals(0, picked.exit(), picked.all());
    assertTrue(picked.out().contains("\nmean over test images 3,17,42, best"), picked.out());
    assertTrue(picked.out().contains(" of 1 runs in "), picked.out());
    List<Map<String, Object>> rows = rows(id);
    assertEquals(6, rows.size());
    int[] ids = {3, 17, 42};
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(ids[i / 2], (int) number(rows.get(i), "example_id"));
      assertEquals(testLabels[ids[i / 2]], (int) number(rows.get(i), "label"));
    }
    Map<String, Object> again = rows.get(0);
    assertEquals(imageThree.get("predicted"), again.get("predicted"));
    for (String column : List.of("output_mean", "output_std", "output_between_channels")) {
      assertEquals(number(imageThree, column), number(again, column), 1e-6, column);
    }
  }

  @Test
  void usageErrorsExitWithTwoAndChangeNothing() throws Exception {
    String id = RUNS.get("g-instance");
    Cli.Result before = featureMaps(id, "--example-ids", "5");
    assertEquals(0, before.exit(), before.all());
    Map<String, String> errors = new LinkedHashMap<>();
    errors.put("", "name the runs: run ids, or --group");
    errors.put(
        id + " --examples 2 --example-ids 1,2", "give --examples or --example-ids, not both");
    errors.put(id + " --examples 0", "--examples must be at least 1, got 0");
    errors.put(id + " --example-ids 3,-1", "--example-ids: test image ids start at 0, got -1");
    errors.put(
        "--group g --example-ids 7,10000",
        "--example-ids: no test image 10000 in mnist (its ids are 0 to 9999)");
    errors.put(id + " --examples 10001", "--examples 10001: mnist has 10000 test images");
    errors.put(id + " --which middle", "--which must be best or last, got middle");
    for (var e : errors.entrySet()) {
      String[] args = e.getKey().isEmpty() ? new String[0] : e.getKey().split(" ");
      Cli.Result r = featureMaps(args);
      assertEquals(2, r.exit(), e.getKey() + ": " + r.all());
      assertTrue(
          r.err().startsWith("normlab feature-maps: " + e.getValue() + "\n"),
          e.getKey() + ": " + r.err());
    }
    List<Map<String, Object>> rows = rows(id);
    assertEquals(2, rows.size(), "the table is the one before the errors");
    assertEquals(5, (int) number(rows.get(0), "example_id"));
  }

  @Test
  void aRunWithoutTheCheckpointIsNamedAndSkipped() throws Exception {
    String batch = RUNS.get("g-batch");
    Path last = checkpointDir(batch).resolve("last.safetensors");
    assertTrue(Files.isRegularFile(last), "compare writes each run's last checkpoint");
    Path aside = last.resolveSibling("aside.safetensors");
    Files.move(last, aside);
    try {
      Cli.Result r = featureMaps("--group", "g", "--which", "last", "--examples", "1");
      assertEquals(0, r.exit(), r.all());
      assertTrue(
          r.out().startsWith("skipped:     g-batch: run " + batch + " has no last checkpoint: "),
          r.out());
      assertTrue(r.out().contains("\ng-instance  instance       1  "), r.out());
      assertTrue(r.out().contains(" of 1 runs in "), r.out());
      assertEquals(2, rows(RUNS.get("g-instance")).size());

      Cli.Result none = featureMaps(batch, "--which", "last");
      assertEquals(1, none.exit(), none.all());
      assertTrue(
          none.out().endsWith("nothing to capture: no run has a last checkpoint\n"), none.out());
    } finally {
      Files.move(aside, last);
    }
  }
}
