package dev.normlab.track.store;

import java.util.Locale;

/**
 * How a metric's summary value is kept up to date as values arrive. {@code MIN}/{@code MAX} are
 * plain extremes; {@code BEST_MIN}/{@code BEST_MAX} are computed the same way but also declare the
 * metric a quality measure with a known direction (lower or higher is better), which is what
 * readers rank runs by. Non-finite values never become a min or max.
 */
public enum SummaryRule {
  /** The value at the highest step. */
  LAST,
  MIN,
  MAX,
  BEST_MIN,
  BEST_MAX;

  /** The name stored in the {@code summary.rule} column. */
  public String sqlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static SummaryRule parse(String s) {
    for (SummaryRule r : values()) {
      if (r.sqlName().equals(s)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown summary rule '" + s + "' (last, min, max, best_min, best_max)");
  }

  /** Whether the value at {@code step} replaces the current summary ({@code cur}, at curStep). */
  boolean replaces(Double cur, long curStep, double value, long step) {
    return switch (this) {
      case LAST -> cur == null || step >= curStep;
      case MIN, BEST_MIN ->
          Double.isFinite(value)
              && (cur == null || value < cur || (value == cur && step < curStep));
      case MAX, BEST_MAX ->
          Double.isFinite(value)
              && (cur == null || value > cur || (value == cur && step < curStep));
    };
  }
}
