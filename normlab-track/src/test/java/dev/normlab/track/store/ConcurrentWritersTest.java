package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three writers, each with its own store handle (as separate processes would), and a reader. */
class ConcurrentWritersTest {
  @TempDir Path dir;

  @Test
  void threeWritersAndAReaderWithoutErrorsOrLostRows() throws Exception {
    Path file = dir.resolve("runs.db");
    RunStore.open(file).close();
    int writers = 3;
    int steps = 3000;
    var errors = new ConcurrentLinkedQueue<Throwable>();
    var ids = new ConcurrentLinkedQueue<String>();
    var start = new CountDownLatch(1);
    var done = new AtomicBoolean();
    var reads = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < writers; t++) {
      int n = t;
      threads.add(
          spawn(
              errors,
              () -> {
                try (RunStore s = RunStore.open(file);
                    RunWriter w =
                        s.newRun("w" + n).group("conc").config(java.util.Map.of("n", n)).start()) {
                  ids.add(w.runId());
                  w.summaryRule("acc", SummaryRule.BEST_MAX);
                  start.await();
                  for (int step = 1; step <= steps; step++) {
                    w.log("loss", step, 1.0 / step);
                    w.log("acc", step, step % 97);
                    if (step % 500 == 0) {
                      w.flush(); // an "epoch end"
                      try (TableWriter tw = w.table("t" + step, List.of(Column.number("x")))) {
                        for (int r = 0; r < 600; r++) {
                          tw.addRow(r);
                        }
                      }
                    }
                  }
                  w.finish();
                }
              }));
    }
    Thread reader =
        spawn(
            errors,
            () -> {
              try (RunStore s = RunStore.open(file)) {
                start.await();
                while (!done.get()) {
                  for (var r : s.query().runs(new RunQuery.Filter("conc", null, null))) {
                    s.query().history(r.id(), "loss");
                    s.query().summary(r.id());
                  }
                  s.markDeadRuns();
                  reads.incrementAndGet();
                }
              }
            });
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    done.set(true);
    reader.join();
    assertEquals(List.of(), List.copyOf(errors));
    assertTrue(reads.get() > 0);
    try (RunStore s = RunStore.open(file)) {
      var q = s.query();
      assertEquals(writers, q.runs(new RunQuery.Filter("conc", "finished", null)).size());
      for (String id : ids) {
        assertEquals(steps, q.history(id, "loss").size());
        assertEquals(steps, q.history(id, "acc").size());
        assertEquals(96.0, q.summary(id).get("acc").value());
        assertEquals(96L, q.summary(id).get("acc").step());
        assertEquals(600, q.tableRows(id, "t3000"));
      }
      assertEquals("ok", s.integrityCheck());
    }
  }

  /**
   * Six writers open the same not-yet-existing store at once, twenty times over (a fresh file each
   * time): each must see either no tables or the whole schema, never a half-made store. Opening
   * once read the schema version and the table list in two separate read transactions, and an
   * opener that read the version just before another's creation committed and the tables just after
   * took the new store for a foreign database (seen once in a CI run of this test).
   */
  @Test
  void severalProcessesCreatingTheSameNewStoreAtOnce() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path file = dir.resolve("fresh" + round).resolve("runs.db");
      var errors = new ConcurrentLinkedQueue<Throwable>();
      var start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        int n = t;
        threads.add(
            spawn(
                errors,
                () -> {
                  start.await();
                  try (RunStore s = RunStore.open(file);
                      RunWriter w = s.newRun("r" + n).start()) {
                    w.log("x", 1, n);
                    w.finish();
                  }
                }));
      }
      start.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertEquals(List.of(), List.copyOf(errors), "round " + round);
      try (RunStore s = RunStore.open(file)) {
        assertEquals(6, s.query().runs(new RunQuery.Filter(null, "finished", null)).size());
      }
    }
  }

  /** A body that may throw anything; {@link #spawn} collects what it throws. */
  interface Body {
    void run() throws Exception;
  }

  /**
   * Starts a platform thread (as a separate process would be) running body; errors go to errors.
   */
  private static Thread spawn(ConcurrentLinkedQueue<Throwable> errors, Body body) {
    return Thread.ofPlatform()
        .start(
            () -> {
              try {
                body.run();
              } catch (Throwable e) {
                errors.add(e);
              }
            });
  }
}
