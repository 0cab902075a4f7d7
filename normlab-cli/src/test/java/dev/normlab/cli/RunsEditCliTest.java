package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `normlab runs delete|tag|untag|note` on a store of finished runs with checkpoint files. */
class RunsEditCliTest {
  @TempDir Path dir;
  private Path db;
  private String oldA;
  private String oldB;
  private String newA;
  private String other;

  /** A finished run whose checkpoints went to {@code checkpoints/<dirName>}, with one file. */
  private String run(RunStore s, String name, String group, String dirName) throws Exception {
    Path ck = dir.resolve("checkpoints").resolve(dirName);
    Files.createDirectories(ck);
    Files.write(ck.resolve("last.safetensors"), new byte[1000]);
    try (RunWriter w =
        s.newRun(name).group(group).config(Map.of("checkpoint_dir", ck.toString())).start()) {
      w.log("train/loss", 1, 0.5);
      w.finish();
      return w.runId();
    }
  }

  @BeforeEach
  void store() throws Exception {
    db = dir.resolve("runs.db");
    try (RunStore s = RunStore.open(db)) {
      oldA = run(s, "a", "old", "a"); // `train` twice under one name: the same directory
      oldB = run(s, "b", "old", "b");
      newA = run(s, "a", "new", "a");
      other = run(s, "c", "new", "c");
    }
  }

  private List<String> ids() {
    try (RunStore s = RunStore.openExisting(db)) {
      return s.query().runs(RunQuery.Filter.all()).stream()
          .map(RunQuery.RunInfo::id)
          .sorted()
          .toList();
    }
  }

  @Test
  void deleteListsFirstAndDeletesWithYesKeepingCheckpointsARemainingRunShares() {
    Cli.Result dry =
        Cli.inProcess(
            "runs", "delete", "--group", "old", "--checkpoints", "--store", db.toString());
    assertEquals(0, dry.exit(), dry.all());
    assertTrue(
        dry.out().contains("would delete 2 runs, 1 checkpoint files (0.0 MB); add --yes"),
        dry.out());
    assertTrue(
        dry.out().contains("keeping " + dir.resolve("checkpoints/a") + ": run " + newA), dry.out());
    assertEquals(4, ids().size(), "a dry run deletes nothing");

    Cli.Result r =
        Cli.inProcess(
            "runs", "delete", "--group", "old", "--checkpoints", "--yes", "--store", db.toString());
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("deleted 2 runs, 1 checkpoint files"), r.out());
    assertEquals(List.of(newA, other).stream().sorted().toList(), ids());
    assertFalse(Files.exists(dir.resolve("checkpoints/b")), "b's checkpoints and directory go");
    assertTrue(Files.exists(dir.resolve("checkpoints/a/last.safetensors")), "the new a's stay");
    assertTrue(Files.exists(dir.resolve("checkpoints/c/last.safetensors")));

    // by id prefix, without --checkpoints: the files stay
    Cli.Result one =
        Cli.inProcess("runs", "delete", other.substring(0, 6), "--yes", "--store", db.toString());
    assertEquals(0, one.exit(), one.all());
    assertEquals(List.of(newA), ids());
    assertTrue(Files.exists(dir.resolve("checkpoints/c/last.safetensors")));
  }

  @Test
  void badSelectionsAreClearErrorsAndDeleteNothing() {
    Cli.Result neither =
        Cli.inProcess("runs", "delete", "--store", db.toString()).assertNoStackTrace();
    assertEquals(2, neither.exit());
    assertTrue(neither.err().contains("name the runs to delete"), neither.err());
    Cli.Result both =
        Cli.inProcess("runs", "delete", oldA, "--group", "old", "--store", db.toString())
            .assertNoStackTrace();
    assertEquals(2, both.exit());
    Cli.Result running =
        Cli.inProcess("runs", "delete", "--status", "running", "--store", db.toString())
            .assertNoStackTrace();
    assertEquals(2, running.exit());
    Cli.Result unknown =
        Cli.inProcess("runs", "delete", oldA, "zz", "--yes", "--store", db.toString())
            .assertNoStackTrace();
    assertEquals(1, unknown.exit());
    assertTrue(
        unknown.err().contains("normlab runs delete: error: no run with id or prefix zz"),
        unknown.err());
    assertEquals(4, ids().size());
  }

  @Test
  void diffShowsWhatDiffersBetweenTwoRuns() {
    String s = db.toString();
    Cli.Result d = Cli.inProcess("runs", "diff", oldA, newA.substring(0, 5), "--store", s);
    assertEquals(0, d.exit(), d.all());
    String[] lines = d.out().split("\n");
    assertTrue(lines[0].matches("key +" + oldA + "  \\|  " + newA), lines[0]);
    assertTrue(d.out().matches("(?s).*\ngroup +old  \\|  new\n.*"), d.out());
    assertFalse(d.out().contains("\nname "), "the same name is no difference: " + d.out());
    assertTrue(lines[lines.length - 1].matches("1 of \\d+ rows differ"), d.out());
    Cli.Result all = Cli.inProcess("runs", "diff", oldA, newA, "--all", "--store", s);
    assertTrue(all.out().matches("(?s).*\nname +a  \\|  a\n.*"), all.out());
    Cli.Result same = Cli.inProcess("runs", "diff", oldA, oldA, "--store", s).assertNoStackTrace();
    assertEquals(1, same.exit());
    assertTrue(same.err().contains("are the same run"), same.err());
  }

  @Test
  void tagUntagAndNote() {
    String s = db.toString();
    Cli.Result t = Cli.inProcess("runs", "tag", oldA, "keep", "paper", "--store", s);
    assertEquals(0, t.exit(), t.all());
    assertEquals(oldA + ": keep, paper\n", t.out());
    assertEquals(
        oldA + ": paper\n", Cli.inProcess("runs", "untag", oldA, "keep", "--store", s).out());
    Cli.Result n = Cli.inProcess("runs", "note", oldA, "lr too high", "--store", s);
    assertEquals(oldA + ": lr too high\n", n.out());
    try (RunStore store = RunStore.openExisting(db)) {
      assertEquals("lr too high", store.query().run(oldA).orElseThrow().notes());
      assertEquals(
          List.of(oldA),
          store.query().runs(new RunQuery.Filter(null, null, "paper")).stream()
              .map(RunQuery.RunInfo::id)
              .toList());
    }
    assertEquals(
        oldA + ": (no notes)\n", Cli.inProcess("runs", "note", oldA, "", "--store", s).out());
    Cli.Result noTag = Cli.inProcess("runs", "tag", oldA, "--store", s).assertNoStackTrace();
    assertEquals(2, noTag.exit());
  }
}
