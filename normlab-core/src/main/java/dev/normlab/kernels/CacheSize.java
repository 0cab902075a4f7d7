package dev.normlab.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The size of one core's level-2 cache, for kernels that choose how much data to take in before
 * they read it again. Read once from Linux's {@code /sys/devices/system/cpu/cpu0/cache}; the system
 * property {@code normlab.l2Bytes} overrides it, and where neither answers it is taken as 1 MiB
 * (the L2 of most server cores since 2017: 1-2 MiB on Intel, 512 KiB-1 MiB on AMD).
 */
public final class CacheSize {
  static final long DEFAULT_L2 = 1L << 20;
  private static final Path CPU0_CACHE = Path.of("/sys/devices/system/cpu/cpu0/cache");
  private static final long L2 = find();

  private CacheSize() {}

  /** Bytes of one core's L2 cache. */
  public static long l2Bytes() {
    return L2;
  }

  private static long find() {
    Long set = Long.getLong("normlab.l2Bytes");
    if (set != null && set > 0) {
      return set;
    }
    long found = level2(CPU0_CACHE);
    return found > 0 ? found : DEFAULT_L2;
  }

  /**
   * The size of the level-2 data or unified cache described under {@code dir} (one {@code indexN}
   * directory per cache, each with {@code level}, {@code type} and {@code size} files), or -1.
   */
  static long level2(Path dir) {
    for (int i = 0; i < 8; i++) {
      Path index = dir.resolve("index" + i);
      try {
        if (!Files.isDirectory(index)
            || !Files.readString(index.resolve("level")).strip().equals("2")
            || Files.readString(index.resolve("type")).strip().equals("Instruction")) {
          continue;
        }
        return parseSize(Files.readString(index.resolve("size")));
      } catch (IOException | RuntimeException e) {
        return -1; // unreadable or malformed: the caller's default serves
      }
    }
    return -1;
  }

  /** Linux's cache size notation: {@code 2048K}, {@code 2M}, or plain bytes. */
  static long parseSize(String text) {
    String s = text.strip().toUpperCase(Locale.ROOT);
    long unit = 1;
    if (s.endsWith("K")) {
      unit = 1L << 10;
    } else if (s.endsWith("M")) {
      unit = 1L << 20;
    }
    if (unit > 1) {
      s = s.substring(0, s.length() - 1);
    }
    return Long.parseLong(s) * unit;
  }
}
