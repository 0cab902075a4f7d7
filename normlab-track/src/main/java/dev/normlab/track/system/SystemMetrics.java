package dev.normlab.track.system;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code system/*} metrics of a run, as W&B's system charts: each sample is taken against the
 * previous one, so CPU and GC are shares of the time between them.
 *
 * <ul>
 *   <li>{@code system/cpu_percent}: the process's CPU time over the wall time, as a percentage of
 *       all the machine's cores (100 = every core busy with this process)
 *   <li>{@code system/rss_mib}: resident memory now
 *   <li>{@code system/peak_rss_mib}: the process's peak resident memory so far ({@code VmHWM}: in a
 *       {@code compare}, whose runs share one process, it includes the runs before)
 *   <li>{@code system/heap_used_mib}: Java heap in use, uncollected garbage included
 *   <li>{@code system/gc_percent}: the share of the wall time the garbage collectors reported
 * </ul>
 */
public final class SystemMetrics {
  private static final double MIB = 1024.0 * 1024.0;

  private final int cores;
  private ProcessSample previous;

  /** Starts measuring from {@code start} on a machine with {@code cores} cores. */
  public SystemMetrics(ProcessSample start, int cores) {
    if (cores < 1) {
      throw new IllegalArgumentException("cores must be >= 1, got " + cores);
    }
    this.previous = start;
    this.cores = cores;
  }

  /** Starts measuring now, on the cores this JVM may use. */
  public static SystemMetrics startingNow() {
    return new SystemMetrics(ProcessSample.now(), Runtime.getRuntime().availableProcessors());
  }

  /** The metrics of {@code now} against the previous sample, which {@code now} then becomes. */
  public Map<String, Double> sample(ProcessSample now) {
    Map<String, Double> m = new LinkedHashMap<>();
    double wall = now.wallNanos() - previous.wallNanos();
    if (wall > 0 && now.cpuNanos() >= 0 && previous.cpuNanos() >= 0) {
      m.put("system/cpu_percent", 100.0 * (now.cpuNanos() - previous.cpuNanos()) / wall / cores);
    }
    if (now.rssBytes() >= 0) {
      m.put("system/rss_mib", now.rssBytes() / MIB);
    }
    if (now.peakRssBytes() >= 0) {
      m.put("system/peak_rss_mib", now.peakRssBytes() / MIB);
    }
    m.put("system/heap_used_mib", now.heapUsedBytes() / MIB);
    if (wall > 0) {
      m.put("system/gc_percent", 100.0 * (now.gcMillis() - previous.gcMillis()) * 1e6 / wall);
    }
    previous = now;
    return m;
  }

  /** The metrics of this moment against the previous sample. */
  public Map<String, Double> sample() {
    return sample(ProcessSample.now());
  }
}
