package dev.normlab.cli;

import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.TrackingListener;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainingListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Connects training runs to the run store (or to nothing, with --no-track). The store is opened at
 * once, so a bad --store fails before any training; a write error later stops the run (marked
 * failed when the store still takes writes) with one message.
 */
final class Tracking implements AutoCloseable {
  private final RunStore store;
  private final List<TrackingListener> listeners = new ArrayList<>();

  private Tracking(RunStore store) {
    this.store = store;
  }

  /** Opens the store at {@code file}, or tracks nothing when {@code file} is null. */
  static Tracking open(Path file) {
    return new Tracking(file == null ? null : RunStore.open(file));
  }

  TrainingListener listener(String runName, String group, TrainConfig config) {
    return listener(runName, group, config, Map.of());
  }

  /** With {@code extraConfig} over the config's entries (a null value drops the key). */
  TrainingListener listener(
      String runName, String group, TrainConfig config, Map<String, Object> extraConfig) {
    if (store == null) {
      return new TrainingListener() {};
    }
    TrackingListener l =
        new TrackingListener(store, runName, group, List.of(), config).config(extraConfig);
    listeners.add(l);
    return l;
  }

  void printWhere(PrintStream out) {
    if (store != null) {
      out.println("runs:        " + store.file());
    }
  }

  /**
   * {@code " --store FILE"} for the commands printed after a run when its store is not the one they
   * open by default ({@code normlab-runs/runs.db} here); empty otherwise.
   */
  String storeOption() {
    return store == null ? "" : storeOption(store.file());
  }

  /**
   * {@code " --store FILE"} (absolute) for the store {@code file}, unless it is the default one.
   */
  static String storeOption(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    return absolute.equals(RunStore.DEFAULT_FILE.toAbsolutePath().normalize())
        ? ""
        : " --store " + Main.shellWord(absolute.toString());
  }

  @Override
  public void close() {
    for (TrackingListener l : listeners) {
      try {
        l.close();
      } catch (RuntimeException alreadyReported) {
        // a store error was already reported by the training
      }
    }
    if (store != null) {
      store.close();
    }
  }
}
