package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
  @TempDir static Path dir;
  static Path store;

  @BeforeAll
  static void createStore() {
    store = StoreFixture.create(dir);
  }

  @Test
  @SuppressWarnings("unchecked")
  void reportIsOneSelfContainedFile() throws Exception {
    Path out = dir.resolve("out/report.html");
    Files.createDirectories(out.getParent());
    Files.writeString(out, "old content");
    ReportWriter.Result r = ReportWriter.write(store, StoreFixture.GROUP, out, 30);
    assertEquals(6, r.runs());
    String html = Files.readString(out);
    assertEquals(Files.size(out), r.bytes());
    // Replaced atomically: no temporary file left beside it.
    try (Stream<Path> files = Files.list(out.getParent())) {
      assertEquals(List.of(out), files.toList());
    }
    // Nothing loaded from elsewhere: outside the script bodies, no src or href attribute.
    String markup = html.replaceAll("(?s)(<script[^>]*>).*?</script>", "$1</script>");
    assertTrue(markup.length() < 20_000, "markup " + markup.length());
    assertEquals(3, count(markup, "<script"));
    assertFalse(markup.contains("src="), markup);
    assertFalse(markup.contains("href="), markup);
    assertTrue(html.contains("default-src 'none'"));
    assertEquals(2, count(html, "'sha256-"));
    // The XSS name only appears escaped inside the JSON.
    assertFalse(html.contains(StoreFixture.XSS_NAME));
    assertFalse(html.contains("<script>alert(2)</script>"));
    Matcher data =
        Pattern.compile(
                "<script type=\"application/json\" id=\"normlab-data\">(.*?)</script>",
                Pattern.DOTALL)
            .matcher(html);
    assertTrue(data.find());
    Map<String, Object> json = (Map<String, Object>) Json.parse(data.group(1));
    List<Map<String, Object>> runs = (List<Map<String, Object>>) json.get("runs");
    assertTrue(runs.stream().anyMatch(x -> StoreFixture.XSS_NAME.equals(x.get("name"))));
    // Predictions: at most 30 per run, mistakes first; images shared between runs.
    Map<String, Object> predictions = (Map<String, Object>) json.get("predictions");
    List<List<Number>> rows =
        (List<List<Number>>) ((Map<String, Object>) predictions.get("run4group")).get("rows");
    assertEquals(30, rows.size());
    int mistakes = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      mistakes += StoreFixture.wrong(4, x) ? 1 : 0;
    }
    for (int i = 0; i < rows.size(); i++) {
      boolean wrong = rows.get(i).get(1).intValue() != rows.get(i).get(2).intValue();
      assertEquals(i < mistakes, wrong, "row " + i);
    }
    // one image per digit, and per inverted digit (the robustness sets of four runs share them)
    assertEquals(20, ((List<?>) json.get("images")).size(), "one image per digit");
    Map<String, Object> shifted =
        (Map<String, Object>) ((Map<String, Object>) json.get("shifted")).get("run1batch");
    assertEquals(
        List.of("invert", "adapted/invert"),
        ((List<Map<String, Object>>) shifted.get("sets"))
            .stream().map(x -> x.get("shift")).toList());
    Map<String, Object> inverted =
        (Map<String, Object>) ((Map<String, Object>) shifted.get("predictions")).get("invert");
    assertEquals(StoreFixture.EXAMPLES, ((Number) inverted.get("total")).intValue());
    List<List<Number>> invertedRows = (List<List<Number>>) inverted.get("rows");
    assertEquals(30, invertedRows.size());
    assertTrue(
        invertedRows.stream().allMatch(row -> row.get(1).intValue() != row.get(2).intValue()),
        "mistakes first: three of four are");
    assertEquals(
        StoreFixture.EXAMPLES,
        ((Number) ((Map<String, Object>) inverted.get("confusion")).get("total")).intValue());
    assertFalse(((Map<String, Object>) json.get("shifted")).containsKey("run4group"));
    // The parameter importance of every result the runs have, as /api/importance gives it.
    Map<String, Object> importance = (Map<String, Object>) json.get("importance");
    assertTrue(importance.keySet().containsAll(List.of("test/accuracy", "test/loss")));
    assertTrue(
        importance.keySet().stream().noneMatch(k -> k.startsWith("watch/")),
        "" + importance.keySet());
    Map<String, Object> acc = (Map<String, Object>) importance.get("test/accuracy");
    assertEquals(runs.size(), ((Number) acc.get("runs")).intValue());
    assertEquals(
        List.of("batch_size", "lr", "optimizer.momentum"),
        ((List<Map<String, Object>>) acc.get("parameters"))
            .stream().map(p -> (String) p.get("key")).sorted().toList());
    // Metrics for every axis.
    Map<String, Object> m =
        (Map<String, Object>)
            ((Map<String, Object>) ((Map<String, Object>) json.get("metrics")).get("run0none"))
                .get("train/loss");
    assertEquals(200, ((List<?>) m.get("step")).size());
    assertEquals(200, ((List<?>) m.get("epoch")).size());
    assertEquals(200, ((List<?>) m.get("time")).size());
  }

  @Test
  void unknownGroupIsOneClearError() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ReportWriter.write(store, "nope", dir.resolve("r.html"), 10));
    assertEquals("no runs in group 'nope'; groups: " + StoreFixture.GROUP, e.getMessage());
    assertFalse(Files.exists(dir.resolve("r.html")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ReportWriter.write(dir.resolve("missing.db"), "g", dir.resolve("r.html"), 10));
  }

  @Test
  void scriptBodiesCannotCloseTheirElement() {
    assertEquals("a<\\/script>b<\\/SCRIPT>", ReportWriter.scriptSafe("a</script>b</SCRIPT>"));
    assertEquals("&lt;b&gt;&amp;&quot;&#39;", ReportWriter.escapeHtml("<b>&\"'"));
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
