package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The median stopping rule: per norm, after three earlier runs, from its first epoch on. */
class MedianStoppingTest {
  @Test
  void medianStoppingNeedsThreeEarlierRunsOfTheNormAndItsFirstEpoch() {
    assertEquals(2.0, MedianStopping.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, MedianStopping.median(List.of(4.0, 1.0, 3.0, 2.0)));
    MedianStopping m = new MedianStopping(2);
    EpochResult low1 = epoch(1, 10), low2 = epoch(2, 10);
    for (double acc : new double[] {80, 90}) {
      assertTrue(m.rule("batch").trainOn(low2)); // fewer than three earlier runs
      m.record("batch", result(acc));
    }
    m.record("batch", result(85));
    MedianStopping.Rule rule = m.rule("batch");
    assertTrue(rule.trainOn(low1), "before --stop-early-from");
    assertFalse(rule.trainOn(low2));
    assertEquals(2, rule.stoppedAfter());
    assertTrue(
        rule.why().contains("below the median 85.00% of 3 earlier runs after epoch 2"), rule.why());
    assertTrue(m.rule("group").trainOn(low2), "another norm's runs do not count");
    assertTrue(m.rule("batch").trainOn(epoch(2, 85)), "at the median it trains on");
  }

  private static EpochResult epoch(int epoch, double acc) {
    return new EpochResult(epoch, epoch * 10L, 1, 1, acc, null, 100, 1, Double.NaN);
  }

  /** A two-epoch run whose test accuracy is {@code acc} after both epochs. */
  private static TrainResult result(double acc) {
    return new TrainResult(null, List.of(epoch(1, acc), epoch(2, acc)), 2, null, null);
  }

  @Test
  void theFirstEpochMustBeAtLeastOne() {
    assertThrows(IllegalArgumentException.class, () -> new MedianStopping(0));
  }
}
