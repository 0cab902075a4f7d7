package dev.normlab.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The median stopping rule for a sweep (Golovin et al., "Google Vizier", 2017): from epoch {@code
 * fromEpoch} on, a run whose test accuracy after an epoch is below the median that the series'
 * earlier runs of the same norm had after that epoch — once at least {@link #MIN_RUNS} of them got
 * there — stops after it. Per norm, because the norms train at different speeds and the sweep is
 * about each norm's best settings. Decisions depend only on earlier runs' histories, so a resumed
 * sweep makes the same ones.
 *
 * <pre>{@code
 * MedianStopping stopping = new MedianStopping(1);
 * for (TrainConfig c : configs) {
 *   MedianStopping.Rule rule = stopping.rule(c.norm());
 *   TrainResult r = new Trainer(c, TrainingListener.all(console, rule)).run();
 *   stopping.record(c.norm(), r); // rule.stoppedAfter(): 0, or the epoch it stopped after
 * }
 * }</pre>
 */
public final class MedianStopping {
  /** Earlier runs of the norm that must have reached an epoch before it can stop a run. */
  public static final int MIN_RUNS = 3;

  private final int fromEpoch;
  private final Map<String, Map<Integer, List<Double>>> accuracies = new HashMap<>();

  /** Runs may be stopped after epoch {@code fromEpoch} (>= 1) and later ones. */
  public MedianStopping(int fromEpoch) {
    if (fromEpoch < 1) {
      throw new IllegalArgumentException(
          "the first epoch to stop after must be >= 1, got " + fromEpoch);
    }
    this.fromEpoch = fromEpoch;
  }

  /** Adds a finished (or early-stopped) run's accuracy after each of its epochs to the pool. */
  public void record(String norm, TrainResult result) {
    Map<Integer, List<Double>> byEpoch = accuracies.computeIfAbsent(norm, k -> new HashMap<>());
    for (EpochResult e : result.epochs()) {
      byEpoch.computeIfAbsent(e.epoch(), k -> new ArrayList<>()).add(e.testAccuracy());
    }
  }

  /** The median of the values (the mean of the middle two for an even count). */
  public static double median(List<Double> values) {
    List<Double> v = values.stream().sorted().toList();
    int n = v.size();
    return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
  }

  /** The rule for one run of {@code norm}, against the runs recorded so far. */
  public Rule rule(String norm) {
    return new Rule(accuracies.getOrDefault(norm, Map.of()));
  }

  /** The rule as a run's listener. */
  public final class Rule implements TrainingListener {
    private final Map<Integer, List<Double>> earlier;
    private int stoppedAfter;
    private String why = "";

    private Rule(Map<Integer, List<Double>> earlier) {
      Map<Integer, List<Double>> copy = new HashMap<>();
      earlier.forEach((epoch, acc) -> copy.put(epoch, List.copyOf(acc)));
      this.earlier = copy;
    }

    @Override
    public boolean trainOn(EpochResult r) {
      List<Double> others = earlier.getOrDefault(r.epoch(), List.of());
      if (r.epoch() < fromEpoch || others.size() < MIN_RUNS) {
        return true;
      }
      double median = median(others);
      if (r.testAccuracy() >= median) {
        return true;
      }
      stoppedAfter = r.epoch();
      why =
          String.format(
              "test accuracy %.2f%% below the median %.2f%% of %d earlier runs after epoch %d",
              r.testAccuracy(), median, others.size(), r.epoch());
      return false;
    }

    /** The epoch after which this rule stopped the run, or 0. */
    public int stoppedAfter() {
      return stoppedAfter;
    }

    /** Why it stopped: the accuracy, the median and how many runs it came from. */
    public String why() {
      return why;
    }
  }
}
