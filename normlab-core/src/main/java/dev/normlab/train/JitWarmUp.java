package dev.normlab.train;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * The warm-up before a timing: runs a step until HotSpot's JIT has settled on normlab's code, so
 * that the timed calls run what a long training run runs.
 *
 * <p>Why a fixed count is not enough: on two cores both busy with the step's threads, the compiler
 * threads get little time, and the code a step runs keeps changing for seconds. Layer Norm
 * 64×64×24×24's loops over rows reached C2 20–450 ms into timed calls that followed 2 s of warm-up
 * (PrintCompilation, 2026-12-04), and a C2 compilation still running after 0.5 s without a finished
 * one took a core from the step's two (forwards 4–5 times their usual time for 100–200 calls). A
 * training step of the reference CNN with Group Norm went from 33 to 25 ms over its first 250
 * steps; this warm-up took 290–510 steps there. (A growing heap slows the first seconds too: arrays
 * on pages never touched. The benchmark scripts give their processes a fixed, pre-touched heap for
 * that.)
 */
public final class JitWarmUp {
  private JitWarmUp() {}

  /**
   * How a warm-up ended: the steps it ran, its seconds, and whether the JIT had settled (false: it
   * stopped at the limit).
   */
  public record Settled(int steps, double seconds, boolean settled) {}

  /** Seconds without a finished compilation that count as settled. */
  public static final double QUIET_SECONDS = 0.5;

  /**
   * Runs {@code step} at least {@code leastSteps} times and {@code leastSeconds} long, then until
   * the JIT has finished no compilation for {@link #QUIET_SECONDS} and has none of normlab's
   * methods queued or compiling ({@link #compilingNormlab}), or until {@code mostSeconds} have
   * passed.
   */
  public static Settled run(
      Runnable step, int leastSteps, double leastSeconds, double mostSeconds) {
    return run(step, leastSteps, leastSeconds, mostSeconds, HotSpot.watch());
  }

  /** What the warm-up reads of the JIT; a test gives its own. */
  interface Jit {
    /** The JIT's total compilation time so far, in any unit: it grows when a compilation ends. */
    long compilationTime();

    /** Whether one of normlab's methods is queued or being compiled. */
    boolean compilingNormlab();
  }

  static Settled run(
      Runnable step, int leastSteps, double leastSeconds, double mostSeconds, Jit jit) {
    long start = System.nanoTime();
    long least = start + (long) (leastSeconds * 1e9);
    long most = start + (long) (mostSeconds * 1e9);
    long quiet = (long) (QUIET_SECONDS * 1e9);
    long compiled = jit.compilationTime();
    long lastChange = start;
    int steps = 0;
    while (true) {
      long now = System.nanoTime();
      long c = jit.compilationTime();
      if (c != compiled) {
        compiled = c;
        lastChange = now;
      }
      if (steps >= leastSteps && now >= least) {
        boolean settled = now - lastChange >= quiet && !jit.compilingNormlab();
        if (settled || now >= most) {
          return new Settled(steps, (now - start) / 1e9, settled);
        }
      }
      step.run();
      steps++;
    }
  }

  /** HotSpot's compilation time, or a constant 0 where it is not monitored. */
  private record HotSpot(CompilationMXBean bean) implements Jit {
    static Jit watch() {
      CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
      return new HotSpot(bean != null && bean.isCompilationTimeMonitoringSupported() ? bean : null);
    }

    @Override
    public long compilationTime() {
      return bean == null ? 0 : bean.getTotalCompilationTime();
    }

    @Override
    public boolean compilingNormlab() {
      return JitWarmUp.compilingNormlab();
    }
  }

  /**
   * Whether the JIT is compiling, or has queued, any of normlab's methods, from the text of {@code
   * jcmd Compiler.queue} (the DiagnosticCommand MBean); false when that is not available. The
   * compilation time the warm-up watches grows only when a compilation ends, and a long one (C2 on
   * {@code Autograd.backwardWalk}) can outlast the quiet seconds.
   */
  public static boolean compilingNormlab() {
    try {
      var server = ManagementFactory.getPlatformMBeanServer();
      var name = new ObjectName("com.sun.management:type=DiagnosticCommand");
      Object queue =
          server.invoke(
              name, "compilerQueue", new Object[] {null}, new String[] {String[].class.getName()});
      return queue instanceof String text && text.contains("dev.normlab.");
    } catch (JMException | RuntimeException e) {
      return false; // no diagnostic commands here: the compilation time alone decides
    }
  }
}
