package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics against the lr of their step: an lr range test's curve. */
class LrAxisTest {
  @TempDir Path dir;

  private String run(RunStore s, String name, boolean rangeTest) {
    try (RunWriter w = s.newRun(name).group(name).start()) {
      for (long step = 1; step <= 5; step++) {
        w.log("train/lr", step, Math.pow(10, step - 6)); // 1e-5 .. 1
        w.log("train/loss", step, 2.0 / step);
        if (rangeTest) {
          w.log("lr_find/smoothed_loss", step, 2.5 / step);
        }
      }
      w.log("train/loss", 6, 9.0); // no lr at this step: no point on an lr axis
      w.finish();
      return w.runId();
    }
  }

  @Test
  void eachPointSitsAtItsStepsLr() throws Exception {
    Path file = dir.resolve("runs.db");
    String id;
    try (RunStore s = RunStore.open(file)) {
      id = run(s, "test", true);
    }
    try (StoreReader r = new StoreReader(file)) {
      StoreReader.Series loss = r.metric(id, "train/loss", StoreReader.XAxis.LR);
      assertArrayEquals(new double[] {1e-5, 1e-4, 1e-3, 1e-2, 1e-1}, loss.x(), 1e-18);
      assertArrayEquals(new double[] {2, 1, 2 / 3.0, 0.5, 0.4}, loss.y(), 1e-12);
      assertArrayEquals(new long[] {1, 2, 3, 4, 5}, loss.step());
      assertEquals(6, r.metric(id, "train/loss", StoreReader.XAxis.STEP).size());
    }
    assertEquals(StoreReader.XAxis.LR, StoreReader.XAxis.parse("lr"));
    var bad = assertThrows(BadRequest.class, () -> StoreReader.XAxis.parse("lrs"));
    assertEquals("x must be step, epoch, time or lr, got 'lrs'", bad.getMessage());
  }

  @Test
  @SuppressWarnings("unchecked")
  void aReportCarriesAnLrAxisOnlyForARangeTest() throws Exception {
    Path file = dir.resolve("runs.db");
    try (RunStore s = RunStore.open(file)) {
      run(s, "plain", false);
      run(s, "ranged", true);
    }
    try (StoreReader r = new StoreReader(file)) {
      for (String group : List.of("plain", "ranged")) {
        var runs = r.runs(StoreReader.RunQuery.group(group));
        Map<String, Object> data = ReportWriter.data(r, group, runs, 10);
        var byKey =
            (Map<String, Map<String, Object>>)
                ((Map<String, Object>) data.get("metrics")).get(runs.get(0).get("id"));
        boolean lr = byKey.get("train/loss").containsKey("lr");
        assertEquals(group.equals("ranged"), lr, group + ": " + byKey.get("train/loss").keySet());
        assertTrue(byKey.get("train/loss").containsKey("epoch"));
      }
    }
  }
}
