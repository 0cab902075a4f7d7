package dev.normlab.track.store;

import java.nio.file.Path;

/**
 * A writer in its own JVM for the kill tests: starts a run, prints its id, then logs metrics until
 * it is killed.
 */
public final class WriterProcess {
  private WriterProcess() {}

  public static void main(String[] args) throws Exception {
    RunStore store = RunStore.open(Path.of(args[0]));
    RunWriter w = store.newRun("doomed").group("kill").start();
    w.summaryRule("loss", SummaryRule.BEST_MIN);
    System.out.println(w.runId());
    System.out.flush();
    for (long step = 1; ; step++) {
      try {
        w.log("loss", step, 1.0 / step);
        w.log("lr", step, 0.01);
        if (step % 200 == 0) {
          w.flush();
        }
      } catch (IllegalStateException closedByTheShutdownHook) {
        if (!w.isOpen()) {
          return;
        }
        throw closedByTheShutdownHook;
      }
      Thread.sleep(1);
    }
  }
}
