package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheSizeTest {
  @TempDir Path dir;

  private void cache(int index, String level, String type, String size) throws IOException {
    Path d = Files.createDirectories(dir.resolve("index" + index));
    Files.writeString(d.resolve("level"), level + "\n");
    Files.writeString(d.resolve("type"), type + "\n");
    Files.writeString(d.resolve("size"), size + "\n");
  }

  @Test
  void findsTheLevel2CacheAmongTheOthers() throws IOException {
    // the Xeon's listing: L1 data, L1 instruction, L2, L3
    cache(0, "1", "Data", "48K");
    cache(1, "1", "Instruction", "32K");
    cache(2, "2", "Unified", "2048K");
    cache(3, "3", "Unified", "107520K");
    assertEquals(2L << 20, CacheSize.level2(dir));
  }

  @Test
  void skipsALevel2InstructionCache() throws IOException {
    cache(0, "2", "Instruction", "64K");
    cache(1, "2", "Data", "1M");
    assertEquals(1L << 20, CacheSize.level2(dir));
  }

  @Test
  void answersMinusOneWhenThereIsNoLevel2OrItIsMalformed() throws IOException {
    assertEquals(-1, CacheSize.level2(dir));
    cache(0, "1", "Data", "32K");
    assertEquals(-1, CacheSize.level2(dir));
    cache(1, "2", "Unified", "lots");
    assertEquals(-1, CacheSize.level2(dir));
  }

  @Test
  void parsesLinuxSizes() {
    assertEquals(512L << 10, CacheSize.parseSize("512K\n"));
    assertEquals(2L << 20, CacheSize.parseSize("2M"));
    assertEquals(4096, CacheSize.parseSize("4096"));
  }

  @Test
  void thisMachinesL2IsPlausible() {
    long l2 = CacheSize.l2Bytes();
    assertTrue(l2 >= 64 << 10 && l2 <= 1L << 30, "L2 of " + l2 + " bytes");
  }
}
