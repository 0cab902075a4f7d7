package dev.normlab.track.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.kernels.VectorWidth;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunEnvironmentTest {
  @Test
  void cpuModelIsTheFirstModelName() {
    String cpuinfo =
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\n"
            + "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
    assertEquals("AMD EPYC 7B13", RunEnvironment.modelName(cpuinfo));
    assertNull(RunEnvironment.modelName("processor\t: 0\nBogoMIPS\t: 50.00\n"));
  }

  @Test
  void describesThisJvmAndWhatTheLauncherAndCliPassed() {
    String commit = System.getProperty(RunEnvironment.COMMIT_PROPERTY);
    String command = System.getProperty(RunEnvironment.COMMAND_PROPERTY);
    try {
      System.clearProperty(RunEnvironment.COMMIT_PROPERTY);
      System.setProperty(RunEnvironment.COMMAND_PROPERTY, " ");
      Map<String, Object> m = RunEnvironment.describe();
      assertEquals(
          List.of("java", "os", "cpu", "cores", "vector_bits", "max_heap_mib"),
          List.copyOf(m.keySet()),
          "a blank or missing commit and command are left out");
      assertTrue(((String) m.get("java")).startsWith(Runtime.version().toString()), "" + m);
      assertEquals(Runtime.getRuntime().availableProcessors(), m.get("cores"));
      assertEquals(VectorWidth.bits(), m.get("vector_bits"));
      assertTrue(List.of(128, 256, 512).contains(VectorWidth.bits()));
      // the -Xmx given, not maxMemory(), which moves as the collector resizes its spaces
      assertEquals(RunEnvironment.maxHeapBytes() >> 20, m.get("max_heap_mib"));
      assertTrue(RunEnvironment.maxHeapBytes() >= Runtime.getRuntime().maxMemory());
      assertFalse(((String) m.get("cpu")).isBlank());

      System.setProperty(RunEnvironment.COMMIT_PROPERTY, "49114a8ea977-dirty");
      System.setProperty(RunEnvironment.COMMAND_PROPERTY, "normlab compare --quick");
      m = RunEnvironment.describe();
      assertEquals("49114a8ea977-dirty", m.get("commit"));
      assertEquals("normlab compare --quick", m.get("command"));
    } finally {
      restore(RunEnvironment.COMMIT_PROPERTY, commit);
      restore(RunEnvironment.COMMAND_PROPERTY, command);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }
}
