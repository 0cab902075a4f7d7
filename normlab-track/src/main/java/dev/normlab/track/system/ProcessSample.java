package dev.normlab.track.system;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What this JVM process uses at one moment: CPU time so far, resident memory (now and its peak),
 * Java heap in use and time spent in garbage collection. Resident memory comes from Linux's {@code
 * /proc/self/status}; where that file is missing it is {@code -1} (unknown).
 *
 * @param wallNanos {@link System#nanoTime()} when taken
 * @param cpuNanos CPU time of all the process's threads so far, or -1 when the JVM cannot tell
 * @param rssBytes resident set size ({@code VmRSS})
 * @param peakRssBytes the process's peak resident set size so far ({@code VmHWM})
 * @param heapUsedBytes Java heap in use, garbage not yet collected included
 * @param gcMillis time the garbage collectors reported so far
 */
public record ProcessSample(
    long wallNanos,
    long cpuNanos,
    long rssBytes,
    long peakRssBytes,
    long heapUsedBytes,
    long gcMillis) {

  private static final Path STATUS = Path.of("/proc/self/status");

  /** The process now. */
  public static ProcessSample now() {
    long[] rss = {-1, -1};
    try {
      rss = residentBytes(Files.readString(STATUS));
    } catch (IOException | RuntimeException notLinux) {
      // unknown: the keys that need it are left out
    }
    long gc = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      gc += Math.max(0, b.getCollectionTime());
    }
    long cpu = -1;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
      cpu = os.getProcessCpuTime();
    }
    return new ProcessSample(
        System.nanoTime(),
        cpu,
        rss[0],
        rss[1],
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
        gc);
  }

  /**
   * {@code VmRSS} and {@code VmHWM} of a {@code /proc/<pid>/status} text, in bytes ({@code -1} for
   * a line that is missing).
   */
  static long[] residentBytes(String status) {
    long rss = -1;
    long hwm = -1;
    for (String line : status.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        rss = kibibytes(line);
      } else if (line.startsWith("VmHWM:")) {
        hwm = kibibytes(line);
      }
    }
    return new long[] {rss, hwm};
  }

  private static long kibibytes(String line) {
    String[] f = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
    if (f.length != 2 || !f[1].equals("kB")) {
      throw new IllegalArgumentException("unexpected /proc/self/status line: " + line);
    }
    return Long.parseLong(f[0]) * 1024;
  }
}
