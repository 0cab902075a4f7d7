package dev.normlab.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.normlab.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the golden file written by scripts/fixtures/make_norm_fixtures.py. */
final class NormFixtures {
  static final double RTOL = 1.3e-6;
  static final double ATOL = 1e-5;

  /** One case: its constructor spec and named tensors. */
  record Case(String name, String ctor, Map<String, Tensor> tensors) {
    Tensor t(String key) {
      Tensor v = tensors.get(key);
      assertNotNull(v, name + ": fixture has no " + key);
      return v.copy();
    }

    boolean has(String key) {
      return tensors.containsKey(key);
    }
  }

  private static Map<String, Case> cache;

  private NormFixtures() {}

  static synchronized Map<String, Case> all() {
    if (cache != null) {
      return cache;
    }
    Map<String, Case> out = new LinkedHashMap<>();
    try (var in = NormFixtures.class.getResourceAsStream("/fixtures/norm/norm_fixtures.txt")) {
      assertNotNull(in, "fixture file missing");
      var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String name = null;
      String ctor = null;
      Map<String, Tensor> ts = null;
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("#") || line.isBlank()) {
          continue;
        }
        if (line.startsWith("case ")) {
          name = line.substring(5).trim();
          ts = new LinkedHashMap<>();
          ctor = null;
        } else if (line.startsWith("s ctor ")) {
          ctor = line.substring(7).trim();
        } else if (line.startsWith("t ")) {
          String[] p = line.split(" +");
          String key = p[1];
          int nd = Integer.parseInt(p[2]);
          int[] shape = new int[nd];
          for (int i = 0; i < nd; i++) {
            shape[i] = Integer.parseInt(p[3 + i]);
          }
          int n = p.length - 3 - nd;
          float[] d = new float[n];
          for (int i = 0; i < n; i++) {
            d[i] = Float.parseFloat(p[3 + nd + i]);
          }
          ts.put(key, Tensor.of(d, shape));
        } else if (line.equals("end")) {
          out.put(name, new Case(name, ctor, ts));
        } else {
          fail("bad fixture line: " + line.substring(0, Math.min(40, line.length())));
        }
      }
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
    cache = out;
    return out;
  }

  static void assertClose(String what, Tensor expected, Tensor actual) {
    assertNotNull(actual, what + " is null");
    assertEquals(
        Arrays.toString(expected.shape()), Arrays.toString(actual.shape()), what + " shape");
    float[] e = expected.data();
    float[] a = actual.data();
    for (int i = 0; i < e.length; i++) {
      double tol = ATOL + RTOL * Math.abs(e[i]);
      if (!(Math.abs(a[i] - e[i]) <= tol) && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) {
        fail(what + "[" + i + "]: expected " + e[i] + " but got " + a[i] + " (tol " + tol + ")");
      }
    }
  }
}
