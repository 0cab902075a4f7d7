package dev.normlab.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.DType;
import dev.normlab.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of valid files: the reader must either load the result or throw {@link
 * SafeTensorsException}, never anything else. 100,000 inputs by default ({@code
 * -Dnormlab.fuzz.count=N}; the older {@code normlab.fuzz.iterations} works too), another seed with
 * {@code -Dnormlab.fuzz.seed=N}.
 */
class SafeTensorsFuzzTest {
  private static final String[] TOKENS = {
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "-",
    "0",
    "1",
    "9",
    "1e9",
    "1.5",
    "99999999999999999999",
    "-1",
    "null",
    "true",
    "\"F32\"",
    "\"I64\"",
    "\"F16\"",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "[0,8]",
    "[]",
    "{}",
    " ",
    "\u00e9",
    "\"\\ud800\"",
    "[[[[[[[[",
    "2147483648",
    "4294967296"
  };

  private static List<byte[]> seeds() {
    List<byte[]> out = new ArrayList<>();
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("0.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    m.put("0.bias", Tensor.of(new float[] {0.5f, -0.5f}, 2));
    m.put("1.num_batches_tracked", Tensor.of(DType.INT64, new float[] {3}));
    m.put("s", Tensor.scalar(7));
    out.add(SafeTensors.serialize(m, Map.of("format", "pt", "normlab.config", "{\"lr\":0.1}")));
    out.add(SafeTensors.serialize(Map.of("x", Tensor.zeros(0)), null));
    out.add(SafeTensors.serialize(Map.of(), Map.of()));
    out.add(
        SafeTensors.serialize(Map.of("a", Tensor.ofInts(new int[] {1, 2}, 2)), Map.of("k", "v")));
    return out;
  }

  static byte[] mutate(byte[] src, SplittableRandom r) {
    byte[] b = src.clone();
    int kinds = 1 + r.nextInt(3);
    for (int k = 0; k < kinds; k++) {
      switch (r.nextInt(9)) {
        case 0 -> { // flip random bits
          int n = 1 + r.nextInt(4);
          for (int i = 0; i < n && b.length > 0; i++) {
            b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> { // random byte
          if (b.length > 0) {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
          }
        }
        case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncate
        case 3 -> { // delete a range
          if (b.length > 1) {
            int at = r.nextInt(b.length);
            int len = 1 + r.nextInt(Math.min(16, b.length - at));
            byte[] c = new byte[b.length - len];
            System.arraycopy(b, 0, c, 0, at);
            System.arraycopy(b, at + len, c, at, b.length - at - len);
            b = c;
          }
        }
        case 4 -> { // insert a JSON-ish token into the header region
          byte[] tok = TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
          int at = b.length <= 8 ? b.length : 8 + r.nextInt(b.length - 7);
          at = Math.min(at, b.length);
          byte[] c = new byte[b.length + tok.length];
          System.arraycopy(b, 0, c, 0, at);
          System.arraycopy(tok, 0, c, at, tok.length);
          System.arraycopy(b, at, c, at + tok.length, b.length - at);
          b = c;
        }
        case 5 -> { // change the header length
          if (b.length >= 8) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long n = bb.getLong(0);
            long v =
                switch (r.nextInt(4)) {
                  case 0 -> n + r.nextInt(17) - 8;
                  case 1 -> r.nextLong();
                  case 2 -> r.nextInt(b.length + 1);
                  default -> Long.MAX_VALUE - r.nextInt(3);
                };
            bb.putLong(0, v);
          }
        }
        case 6 -> { // replace a digit in the header with another number
          String s = new String(b, StandardCharsets.ISO_8859_1);
          int at = indexOfDigit(s, r.nextInt(Math.max(1, s.length())));
          if (at >= 8) {
            String rep = TOKENS[10 + r.nextInt(10)];
            s = s.substring(0, at) + rep + s.substring(at + 1);
            b = s.getBytes(StandardCharsets.ISO_8859_1);
          }
        }
        case 7 -> { // append garbage
          byte[] c = Arrays.copyOf(b, b.length + 1 + r.nextInt(16));
          for (int i = b.length; i < c.length; i++) {
            c[i] = (byte) r.nextInt(256);
          }
          b = c;
        }
        default -> { // duplicate a slice
          if (b.length > 2) {
            int at = r.nextInt(b.length);
            int len = 1 + r.nextInt(Math.min(24, b.length - at));
            byte[] c = new byte[b.length + len];
            System.arraycopy(b, 0, c, 0, at + len);
            System.arraycopy(b, at, c, at + len, b.length - at);
            b = c;
          }
        }
      }
    }
    return b;
  }

  private static int indexOfDigit(String s, int from) {
    for (int i = 0; i < s.length(); i++) {
      int j = (from + i) % s.length();
      if (Character.isDigit(s.charAt(j))) {
        return j;
      }
    }
    return -1;
  }

  @Test
  void mutatedInputsOnlyEverThrowSafeTensorsException() {
    int iterations =
        Integer.getInteger(
            "normlab.fuzz.count", Integer.getInteger("normlab.fuzz.iterations", 100_000));
    long seed = Long.getLong("normlab.fuzz.seed", 20240601L);
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> seeds = seeds();
    int loaded = 0;
    int rejected = 0;
    for (int i = 0; i < iterations; i++) {
      byte[] input = mutate(seeds.get(r.nextInt(seeds.size())), r);
      try {
        SafeTensors.parse(input, "fuzz");
        loaded++;
      } catch (SafeTensorsException e) {
        assertTrue(e.getMessage().startsWith("fuzz: "), e.getMessage());
        rejected++;
      } catch (Throwable t) {
        throw new AssertionError(
            "iteration "
                + i
                + " (seed "
                + seed
                + ") threw "
                + t
                + " on input "
                + java.util.HexFormat.of().formatHex(input),
            t);
      }
    }
    System.out.printf(
        "safetensors fuzz: %d inputs (seed %d): %d loaded, %d rejected with SafeTensorsException%n",
        iterations, seed, loaded, rejected);
    assertTrue(rejected > iterations / 2, "most mutations should be rejected: " + rejected);
    assertTrue(loaded > 0, "some mutations (e.g. in the data section) still load");
  }
}
