package dev.normlab.track.system;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.normlab.kernels.VectorWidth;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where and with what a run ran, stored in its config under {@code env.*}: the same seed gives the
 * same numbers only with the same vector width and threads, and a speed is only comparable on the
 * same CPU. The launcher passes the checkout's commit ({@code -Dnormlab.git.commit}, with {@code
 * -dirty} when files differ from it) and the CLI its command line ({@code -Dnormlab.command}).
 */
public final class RunEnvironment {
  /** System property with the commit of the code being run; the launcher sets it. */
  public static final String COMMIT_PROPERTY = "normlab.git.commit";

  /** System property with the command line; the CLI sets it. */
  public static final String COMMAND_PROPERTY = "normlab.command";

  private RunEnvironment() {}

  /**
   * {@code java}, {@code os}, {@code cpu}, {@code cores}, {@code vector_bits}, {@code max_heap_mib}
   * and, when known, {@code commit} and {@code command}.
   */
  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(
        "java",
        System.getProperty("java.runtime.version") + " " + System.getProperty("java.vm.vendor"));
    m.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    m.put("cpu", cpuModel());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("vector_bits", VectorWidth.bits());
    m.put("max_heap_mib", maxHeapBytes() >> 20);
    putIfSet(m, "commit", COMMIT_PROPERTY);
    putIfSet(m, "command", COMMAND_PROPERTY);
    return m;
  }

  /**
   * The heap limit the JVM was given ({@code -Xmx}, the {@code MaxHeapSize} flag): {@link
   * Runtime#maxMemory()} moves as the collector resizes its spaces, so two runs of one process
   * would differ there.
   */
  static long maxHeapBytes() {
    try {
      var hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      if (hotspot != null) {
        return Long.parseLong(hotspot.getVMOption("MaxHeapSize").getValue());
      }
    } catch (RuntimeException notHotSpot) {
      // fall through
    }
    return Runtime.getRuntime().maxMemory();
  }

  private static void putIfSet(Map<String, Object> m, String key, String property) {
    String v = System.getProperty(property);
    if (v != null && !v.isBlank()) {
      m.put(key, v);
    }
  }

  /** The CPU's model name from Linux's {@code /proc/cpuinfo}, else the architecture. */
  static String cpuModel() {
    try {
      String model = modelName(Files.readString(Path.of("/proc/cpuinfo")));
      if (model != null) {
        return model;
      }
    } catch (IOException | RuntimeException notLinux) {
      // fall through
    }
    return System.getProperty("os.arch");
  }

  /** The first {@code model name} of a {@code /proc/cpuinfo} text, or null. */
  static String modelName(String cpuinfo) {
    for (String line : cpuinfo.split("\n")) {
      if (line.startsWith("model name")) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          return line.substring(colon + 1).trim();
        }
      }
    }
    return null;
  }
}
