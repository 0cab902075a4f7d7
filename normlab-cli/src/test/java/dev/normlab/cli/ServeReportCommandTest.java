package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to serve and report ends in one clear line and exit code 1, never a stack trace. */
class ServeReportCommandTest {
  @TempDir Path dir;

  record Outcome(int code, String err) {}

  static Outcome run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Outcome(code, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  Path emptyStore() throws Exception {
    Path file = dir.resolve("runs.db");
    String sql;
    try (InputStream in = getClass().getResourceAsStream("/dev/normlab/track/schema.sql")) {
      sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      for (String stmt : sql.replaceAll("--[^\n]*", "").split(";")) {
        if (!stmt.isBlank()) {
          st.execute(stmt);
        }
      }
    }
    return file;
  }

  static void assertOneClearLine(Outcome o, String expected) {
    assertEquals(1, o.code(), o.err());
    assertTrue(o.err().contains(expected), o.err());
    assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    assertFalse(o.err().contains("internal error"), "bad input is not a bug: " + o.err());
  }

  @Test
  void missingStore() {
    String missing = dir.resolve("nope.db").toString();
    // the same words as runs and export (TrackingCliTest), naming the file
    String said = "nope.db: no such file (run train or compare first, or pass --store)";
    assertOneClearLine(run("serve", "--store", missing), said);
    assertOneClearLine(run("report", "--group", "g", "--store", missing), said);
  }

  @Test
  void unknownGroupAndBadToken() throws Exception {
    String store = emptyStore().toString();
    assertOneClearLine(
        run("report", "--group", "g", "--store", store, "--out", dir.resolve("r.html").toString()),
        "no runs in group 'g' (the store has no groups)");
    assertOneClearLine(
        run("report", "--store", store, "--out", dir.resolve("r.html").toString()),
        "runs.db has no runs yet (run train or compare first, or pass --store)");
    assertOneClearLine(run("serve", "--store", store, "--token", "short"), "--token must be");
    assertOneClearLine(run("serve", "--store", store, "--port", "70000"), "port must be in");
  }

  @Test
  void reportWithoutGroupTakesTheLatestRunsGroup() throws Exception {
    Path file = dir.resolve("runs.db");
    try (RunStore s = RunStore.open(file)) {
      for (String g : new String[] {"older", "newer"}) {
        try (RunWriter w = s.newRun("run-of-" + g).group(g).start()) {
          w.log("test/acc", 1, 0.5);
          w.finish();
        }
        Thread.sleep(20); // distinct start times
      }
    }
    Path html = dir.resolve("latest.html");
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run("report", "--store", file.toString(), "--out", html.toString());
    } finally {
      System.setOut(saved);
    }
    assertEquals(0, code);
    assertTrue(
        out.toString(StandardCharsets.UTF_8).contains("(1 runs of group newer,"), out::toString);
    String page = java.nio.file.Files.readString(html);
    assertTrue(page.contains("run-of-newer"));
    assertFalse(page.contains("run-of-older"));
  }

  @Test
  void notAStore() throws Exception {
    Path junk = dir.resolve("junk.db");
    java.nio.file.Files.writeString(junk, "not sqlite");
    assertOneClearLine(
        run("report", "--group", "g", "--store", junk.toString()), "not a normlab run store");
  }
}
