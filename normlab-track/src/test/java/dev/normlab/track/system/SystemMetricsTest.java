package dev.normlab.track.system;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SystemMetricsTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long MIB = 1 << 20;

  @Test
  void readsResidentMemoryFromProcStatus() {
    String status =
        "Name:\tjava\nVmPeak:\t 9000000 kB\nVmHWM:\t  954368 kB\nVmRSS:\t  716800 kB\nThreads:\t21\n";
    assertArrayEquals(
        new long[] {716800L * 1024, 954368L * 1024}, ProcessSample.residentBytes(status));
    assertArrayEquals(new long[] {-1, -1}, ProcessSample.residentBytes("Name:\tjava\n"));
    var bad =
        assertThrows(
            IllegalArgumentException.class, () -> ProcessSample.residentBytes("VmRSS:\t7 MB\n"));
    assertTrue(bad.getMessage().contains("VmRSS:\t7 MB"), bad.getMessage());
  }

  @Test
  void cpuAndGcAreSharesOfTheTimeBetweenSamples() {
    var start = new ProcessSample(10 * SECOND, 3 * SECOND, 500 * MIB, 600 * MIB, 100 * MIB, 40);
    var metrics = new SystemMetrics(start, 2);
    // 4 s of wall time, 6 s of CPU on 2 cores (75 %), 200 ms of it collecting garbage (5 %)
    var later = new ProcessSample(14 * SECOND, 9 * SECOND, 512 * MIB, 640 * MIB, 300 * MIB, 240);
    Map<String, Double> m = metrics.sample(later);
    assertEquals(
        List.of(
            "system/cpu_percent",
            "system/rss_mib",
            "system/peak_rss_mib",
            "system/heap_used_mib",
            "system/gc_percent"),
        List.copyOf(m.keySet()));
    assertEquals(75.0, m.get("system/cpu_percent"), 1e-12);
    assertEquals(512.0, m.get("system/rss_mib"));
    assertEquals(640.0, m.get("system/peak_rss_mib"));
    assertEquals(300.0, m.get("system/heap_used_mib"));
    assertEquals(5.0, m.get("system/gc_percent"), 1e-12);
    // the next sample is taken against this one: 1 s, 1 s of CPU → 50 %, no GC
    var next = new ProcessSample(15 * SECOND, 10 * SECOND, 512 * MIB, 640 * MIB, 310 * MIB, 240);
    Map<String, Double> n = metrics.sample(next);
    assertEquals(50.0, n.get("system/cpu_percent"), 1e-12);
    assertEquals(0.0, n.get("system/gc_percent"));
  }

  @Test
  void whatIsUnknownIsLeftOut() {
    var start = new ProcessSample(0, -1, -1, -1, 100 * MIB, 0);
    var m = new SystemMetrics(start, 1).sample(new ProcessSample(SECOND, -1, -1, -1, MIB, 0));
    assertEquals(List.of("system/heap_used_mib", "system/gc_percent"), List.copyOf(m.keySet()));
    assertThrows(IllegalArgumentException.class, () -> new SystemMetrics(start, 0));
  }

  @Test
  void thisProcessIsMeasured() {
    ProcessSample s = ProcessSample.now();
    // Linux (where the tests run) has /proc/self/status; elsewhere the resident sizes are unknown
    boolean proc = Files.exists(Path.of("/proc/self/status"));
    assertEquals(proc, s.rssBytes() > 0, "rss " + s.rssBytes());
    assertEquals(proc, s.peakRssBytes() >= s.rssBytes() && s.peakRssBytes() > 0);
    assertTrue(s.heapUsedBytes() > 0);
    assertTrue(s.cpuNanos() > 0, "this JVM has used CPU time: " + s.cpuNanos());
    double busy = 0;
    for (int i = 0; i < 20_000_000; i++) {
      busy += Math.sqrt(i);
    }
    assertTrue(busy > 0);
    assertTrue(ProcessSample.now().cpuNanos() > s.cpuNanos(), "CPU time grows with work");
    assertFalse(SystemMetrics.startingNow().sample().isEmpty());
  }
}
