package dev.normlab.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** A fixture file of {@code key value value ...} lines (floats in Java's hex notation). */
public final class KeyedFixtures {
  private final Map<String, String[]> rows = new LinkedHashMap<>();
  private final String resource;

  private KeyedFixtures(String resource) {
    this.resource = resource;
  }

  /** Reads a classpath resource such as {@code /fixtures/rng/rng_fixtures.txt}. */
  public static KeyedFixtures load(String resource) {
    KeyedFixtures f = new KeyedFixtures(resource);
    var in = KeyedFixtures.class.getResourceAsStream(resource);
    if (in == null) {
      throw new IllegalStateException("missing test resource " + resource);
    }
    try (var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        String[] p = line.trim().split(" ");
        if (p.length > 1) {
          f.rows.put(p[0], Arrays.copyOfRange(p, 1, p.length));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return f;
  }

  private String[] row(String key) {
    String[] r = rows.get(key);
    if (r == null) {
      throw new IllegalStateException(resource + " has no line '" + key + "'");
    }
    return r;
  }

  public double[] doubles(String key) {
    return Arrays.stream(row(key)).mapToDouble(Double::parseDouble).toArray();
  }

  public float[] floats(String key) {
    double[] d = doubles(key);
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  /**
   * Asserts {@code got} is {@code want} within {@code atol + rtol * |want|} element by element, a
   * NaN expected where PyTorch gave one; the message names the element.
   */
  public static void assertClose(float[] want, float[] got, float atol, float rtol, String what) {
    assertEquals(want.length, got.length, what + ": length");
    for (int i = 0; i < want.length; i++) {
      if (Float.isNaN(want[i])) {
        assertTrue(Float.isNaN(got[i]), what + "[" + i + "]: expected NaN, got " + got[i]);
      } else {
        assertEquals(want[i], got[i], atol + rtol * Math.abs(want[i]), what + "[" + i + "]");
      }
    }
  }

  /** The line's values as they are written. */
  public String[] words(String key) {
    return row(key).clone();
  }

  public int[] ints(String key) {
    return Arrays.stream(row(key)).mapToInt(Integer::parseInt).toArray();
  }
}
