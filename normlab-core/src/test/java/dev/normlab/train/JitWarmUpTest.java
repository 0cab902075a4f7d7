package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The warm-up before a timing: steps until the JIT has settled, with a JIT the test plays. */
class JitWarmUpTest {
  /** A JIT that finishes a compilation on each of its first {@code compiling} reads. */
  private static final class Compiles implements JitWarmUp.Jit {
    private final int compiling;
    private final int queued;
    private int reads;
    private int queueReads;

    Compiles(int compiling, int queued) {
      this.compiling = compiling;
      this.queued = queued;
    }

    @Override
    public long compilationTime() {
      reads++;
      return Math.min(reads, compiling);
    }

    @Override
    public boolean compilingNormlab() {
      return ++queueReads <= queued;
    }
  }

  @Test
  void theLeastStepsRunEvenPastTheLimit() {
    int[] steps = {0};
    JitWarmUp.Settled s = JitWarmUp.run(() -> steps[0]++, 7, 0, 0, new Compiles(1000, 0));
    assertEquals(7, steps[0]);
    assertEquals(7, s.steps());
    assertFalse(s.settled()); // still compiling at the limit
  }

  @Test
  void noStepAtAllWhenNoneIsAskedForAndTheLimitIsNow() {
    int[] steps = {0};
    JitWarmUp.Settled s = JitWarmUp.run(() -> steps[0]++, 0, 0, 0, new Compiles(1000, 0));
    assertEquals(0, steps[0]);
    assertEquals(0, s.steps());
  }

  @Test
  void goesOnUntilNoCompilationHasEndedForTheQuietSeconds() {
    int[] steps = {0};
    JitWarmUp.Settled s = JitWarmUp.run(() -> steps[0]++, 1, 0, 60, new Compiles(40, 0));
    assertTrue(s.settled());
    // 40 reads with a new compilation time (one before the loop, one before each step), then quiet
    assertTrue(s.steps() > 39, "steps " + s.steps());
    assertTrue(s.seconds() >= JitWarmUp.QUIET_SECONDS, "seconds " + s.seconds());
    assertEquals(steps[0], s.steps());
  }

  @Test
  void waitsWhileOneOfNormlabsMethodsIsQueued() {
    JitWarmUp.Settled s = JitWarmUp.run(() -> {}, 1, 0, 60, new Compiles(0, 500));
    assertTrue(s.settled());
    // the queue is read only once the quiet seconds have passed: 500 reads, 500 steps at least
    assertTrue(s.steps() >= 500, "steps " + s.steps());
  }

  @Test
  void stopsAtTheLimitWhenTheJitNeverSettles() {
    JitWarmUp.Settled s = JitWarmUp.run(() -> {}, 1, 0, 0.05, new Compiles(Integer.MAX_VALUE, 0));
    assertFalse(s.settled());
    assertTrue(s.seconds() >= 0.05, "seconds " + s.seconds());
  }

  @Test
  void theLeastSecondsRunToo() {
    JitWarmUp.Settled s = JitWarmUp.run(() -> {}, 1, 0.7, 0.1, new Compiles(0, 0));
    assertTrue(s.seconds() >= 0.7, "seconds " + s.seconds());
    assertTrue(s.settled());
  }
}
