package dev.normlab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.DType;
import dev.normlab.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  @TempDir Path tmp;

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  /** Byte-exact vectors of the reference implementation's own serialization tests. */
  @Test
  void referenceVectors() {
    Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3);
    byte[] expected =
        bytes(
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91,
            49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115,
            34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0,
            64, 64, 0, 0, 128, 64, 0, 0, 160, 64);
    assertArrayEquals(expected, SafeTensors.serialize(Map.of("attn.0", t), null));

    assertArrayEquals(
        bytes(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32),
        SafeTensors.serialize(Map.of(), Map.of()));
    byte[] withMeta = SafeTensors.serialize(Map.of(), Map.of("framework", "pt"));
    assertEquals(40, withMeta[0]);
    assertEquals(
        "{\"__metadata__\":{\"framework\":\"pt\"}}     ",
        new String(withMeta, 8, 40, StandardCharsets.UTF_8));

    // Padding with spaces to a multiple of 8.
    byte[] padded = SafeTensors.serialize(Map.of("attn0", t.reshape(1, 1, 2, 3)), null);
    assertEquals(72, padded[0]);
    assertEquals(
        "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
        new String(padded, 8, 72, StandardCharsets.UTF_8));
  }

  @Test
  void ordersByDtypeAlignmentThenName() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("b.weight", Tensor.of(new float[] {1, 2}, 2));
    m.put("a.weight", Tensor.of(new float[] {3}, 1));
    m.put("z.num_batches_tracked", Tensor.of(DType.INT64, new float[] {7}));
    m.put("B.bias", Tensor.scalar(4));
    String header = header(SafeTensors.serialize(m, Map.of("b", "2", "a", "1")));
    assertEquals(
        "{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"},"
            + "\"z.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
            + "\"B.bias\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
            + "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
            + "\"b.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}",
        header.strip());
  }

  private static String header(byte[] file) {
    long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return new String(file, 8, (int) n, StandardCharsets.UTF_8);
  }

  @Test
  void roundTripWithMetadataEscapes() throws Exception {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(
        "conv.weight", Tensor.of(new float[] {1.5f, -2.25f, Float.MIN_VALUE, Float.NaN}, 2, 1, 2));
    m.put("bn.num_batches_tracked", Tensor.of(DType.INT64, new float[] {123456}));
    m.put("labels", Tensor.ofInts(new int[] {-3, 0, 9}, 3));
    m.put("empty", Tensor.zeros(0, 4));
    m.put("ünï\"cödé\\", Tensor.scalar(1));
    Map<String, String> meta = Map.of("config", "{\"a\": [1, 2]}\n\ttab \u0001 ü", "k", "");
    Path f = tmp.resolve("m.safetensors");
    SafeTensors.write(f, m, meta);
    SafeTensors.Contents c = SafeTensors.read(f);
    assertEquals(meta, c.metadata());
    assertEquals(m.keySet(), c.tensors().keySet());
    for (var e : m.entrySet()) {
      Tensor got = c.get(e.getKey());
      assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
      assertEquals(e.getValue().dtype(), got.dtype(), e.getKey());
      assertArrayEquals(e.getValue().data(), got.data(), e.getKey());
    }
    assertTrue(header(Files.readAllBytes(f)).contains("\\n\\ttab \\u0001 ü"));
    // No temp file left behind.
    try (var s = Files.list(tmp)) {
      assertEquals(1, s.count());
    }
  }

  @Test
  void little_endian_data() {
    byte[] f =
        SafeTensors.serialize(Map.of("x", Tensor.of(DType.INT64, new float[] {258}, 1)), null);
    int start = f.length - 8;
    assertArrayEquals(
        bytes(2, 1, 0, 0, 0, 0, 0, 0), java.util.Arrays.copyOfRange(f, start, f.length));
  }

  private static String problem(byte[] b) {
    return assertThrows(SafeTensorsException.class, () -> SafeTensors.parse(b, "f.safetensors"))
        .getMessage();
  }

  private static byte[] file(String header, int dataBytes) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[8 + h.length + dataBytes];
    ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
    System.arraycopy(h, 0, out, 8, h.length);
    return out;
  }

  @Test
  void readerNamesEachProblem() {
    List<String[]> cases =
        List.of(
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "8", ""
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
              "4",
              "dtype F16 is not supported"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
              "8",
              "needs 12 bytes"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
              "12",
              "must be contiguous from 0"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              "9",
              "trailing or missing bytes"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              "4",
              "past the end"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
              "8",
              "shape[0] must be a non-negative integer"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}",
              "8",
              "shape[0] must be a non-negative integer"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}",
              "8",
              "array of two integers"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
              "8",
              "end before begin"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "8", "array of two integers"
            },
            new String[] {
              "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "8", "non-string \"dtype\""
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
              "8",
              "unknown field"
            },
            new String[] {"{\"a\":[1]}", "0", "entry is not an object"},
            new String[] {"{\"__metadata__\":{\"k\":1}}", "0", "is not a string"},
            new String[] {"{\"__metadata__\":[]}", "0", "__metadata__ must be an object"},
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{}}",
              "8",
              "duplicate key"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}",
              "8",
              "not valid JSON"
            },
            new String[] {"[1,2]", "0", "does not start with '{'"},
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999,99999,99999],\"data_offsets\":[0,8]}}",
              "8",
              "too many elements"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}",
              "8",
              "data_offsets[1] must be"
            },
            new String[] {
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x",
              "8",
              "not valid JSON"
            });
    for (String[] c : cases) {
      byte[] f = file(c[0], Integer.parseInt(c[1]));
      if (c[2].isEmpty()) {
        try {
          SafeTensors.parse(f, "f.safetensors");
        } catch (SafeTensorsException e) {
          throw new AssertionError(c[0] + " should load: " + e.getMessage());
        }
        continue;
      }
      String m = problem(f);
      assertTrue(m.startsWith("f.safetensors: "), m);
      assertTrue(m.contains(c[2]), c[0] + " -> " + m);
    }
  }

  @Test
  void headerLengthChecks() {
    assertTrue(problem(new byte[5]).contains("less than the 8-byte header length"));
    byte[] huge = file("{}", 0);
    ByteBuffer.wrap(huge, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
    assertTrue(problem(huge).contains("exceeds the limit"), problem(huge));
    ByteBuffer.wrap(huge, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
    assertTrue(problem(huge).contains("runs past the end"));
    byte[] bad = file("{\"\u00e9\":1}", 0);
    bad[11] = (byte) 0xC3; // broken UTF-8 sequence
    bad[12] = (byte) 0x28;
    assertTrue(problem(bad).contains("not valid UTF-8"), problem(bad));
  }

  @Test
  void missingFileIsNoSuchFile() {
    assertThrows(
        java.nio.file.NoSuchFileException.class, () -> SafeTensors.read(tmp.resolve("nope")));
  }

  @Test
  void jsonParser() throws Exception {
    assertEquals(
        Map.of("a", List.of(1L, 2.5, true, false), "b", "x\"\n\u00e9"),
        Json.parse(" {\"a\":[1,2.5,true,false],\"b\":\"x\\\"\\n\\u00e9\"} "));
    for (String bad :
        new String[] {
          "",
          "{",
          "[1,]",
          "{\"a\"}",
          "01",
          "1.",
          "-",
          "\"\\x\"",
          "tru",
          "{\"a\":1,}",
          "\"\u0001\"",
          "[".repeat(200)
        }) {
      assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
    }
    assertEquals(
        "[1,\"a\\\\b\",null,0.1,2.0]",
        Json.write(java.util.Arrays.asList(1L, "a\\b", null, 0.1, 2.0)));
  }
}
