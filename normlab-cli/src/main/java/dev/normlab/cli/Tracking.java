package dev.normlab.cli;

import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainingListener;
import java.io.PrintStream;
import java.nio.file.Path;

/** Connects training runs to the run store (or to nothing, with --no-track). */
final class Tracking implements AutoCloseable {
  private final Path store;

  private Tracking(Path store) {
    this.store = store;
  }

  static Tracking open(Path store) {
    return new Tracking(store);
  }

  TrainingListener listener(String runName, String group, TrainConfig config) {
    return new TrainingListener() {};
  }

  void printWhere(PrintStream out) {
    if (store != null) {
      out.println("runs:        " + store.toAbsolutePath());
    }
  }

  @Override
  public void close() {}
}
