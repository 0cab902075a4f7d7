package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of valid IDX files, raw and gzip-compressed (byte flips, truncation,
 * edits of the magic number and the size fields, inserted and deleted bytes, random headers): the
 * reader must load the input or throw {@link IdxFormatException} naming it, never anything else.
 * 100,000 inputs by default ({@code -Dnormlab.fuzz.count=N}, another seed with {@code
 * -Dnormlab.fuzz.seed=S}).
 */
class IdxFuzzTest {
  private static List<byte[]> seeds() {
    List<byte[]> raw = new ArrayList<>();
    raw.add(IdxFiles.images(3, 4, 5, 1));
    raw.add(IdxFiles.labels(7, 10, 2));
    raw.add(IdxFiles.idx(8, new int[] {2, 2, 2, 2}, new byte[16]));
    raw.add(IdxFiles.idx(8, new int[] {0, 28, 28}, new byte[0]));
    return raw;
  }

  /** The size fields of a raw IDX: bytes 4 .. 4 + 4 * rank. */
  private static void editSize(byte[] b, SplittableRandom r) {
    if (b.length < 8) {
      return;
    }
    int rank = b[3] & 0xFF;
    int fields = Math.max(1, Math.min(rank, (b.length - 4) / 4));
    int at = 4 + 4 * r.nextInt(fields);
    int v =
        switch (r.nextInt(5)) {
          case 0 -> r.nextInt(); // anything, negative as unsigned too
          case 1 -> -1;
          case 2 -> 0;
          case 3 -> Integer.MAX_VALUE - r.nextInt(3);
          default -> // off by a little
              ((b[at] & 0xFF) << 24
                      | (b[at + 1] & 0xFF) << 16
                      | (b[at + 2] & 0xFF) << 8
                      | (b[at + 3] & 0xFF))
                  + r.nextInt(5)
                  - 2;
        };
    if (at + 4 <= b.length) {
      b[at] = (byte) (v >>> 24);
      b[at + 1] = (byte) (v >>> 16);
      b[at + 2] = (byte) (v >>> 8);
      b[at + 3] = (byte) v;
    }
  }

  static byte[] mutate(byte[] src, SplittableRandom r) {
    byte[] b = src.clone();
    int kinds = 1 + r.nextInt(3);
    for (int k = 0; k < kinds; k++) {
      switch (r.nextInt(8)) {
        case 0 -> { // flip bits
          for (int i = 1 + r.nextInt(4); i > 0 && b.length > 0; i--) {
            b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncate
        case 2 -> editSize(b, r);
        case 3 -> { // magic: type or rank byte
          if (b.length >= 4) {
            b[2 + r.nextInt(2)] = (byte) r.nextInt(256);
          }
        }
        case 4 -> { // delete a range
          if (b.length > 1) {
            int at = r.nextInt(b.length);
            int len = 1 + r.nextInt(Math.min(8, b.length - at));
            byte[] c = new byte[b.length - len];
            System.arraycopy(b, 0, c, 0, at);
            System.arraycopy(b, at + len, c, at, b.length - at - len);
            b = c;
          }
        }
        case 5 -> { // insert random bytes
          int at = r.nextInt(b.length + 1);
          int len = 1 + r.nextInt(8);
          byte[] c = new byte[b.length + len];
          System.arraycopy(b, 0, c, 0, at);
          for (int i = 0; i < len; i++) {
            c[at + i] = (byte) r.nextInt(256);
          }
          System.arraycopy(b, at, c, at + len, b.length - at);
          b = c;
        }
        case 6 -> { // a random header in front of the data
          int rank = r.nextInt(6);
          byte[] head = new byte[4 + 4 * rank];
          head[2] = (byte) (r.nextBoolean() ? 8 : r.nextInt(256));
          head[3] = (byte) (r.nextInt(4) == 0 ? r.nextInt(256) : rank);
          for (int i = 4; i < head.length; i++) {
            head[i] = (byte) (r.nextInt(3) == 0 ? r.nextInt(256) : r.nextInt(4));
          }
          int keep = Math.min(b.length, 4 + 4 * Math.max(1, b.length >= 4 ? b[3] & 3 : 0));
          byte[] c = new byte[head.length + b.length - keep];
          System.arraycopy(head, 0, c, 0, head.length);
          System.arraycopy(b, keep, c, head.length, b.length - keep);
          b = c;
        }
        default -> { // entirely random bytes, sometimes with a gzip magic
          b = new byte[r.nextInt(64)];
          for (int i = 0; i < b.length; i++) {
            b[i] = (byte) r.nextInt(256);
          }
          if (b.length >= 2 && r.nextBoolean()) {
            b[0] = 0x1f;
            b[1] = (byte) 0x8b;
          }
        }
      }
    }
    return b;
  }

  @Test
  void mutatedInputsOnlyEverThrowIdxFormatException() {
    int count = Integer.getInteger("normlab.fuzz.count", 100_000);
    long seed = Long.getLong("normlab.fuzz.seed", 20251129L);
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> seeds = seeds();
    int loaded = 0;
    int rejected = 0;
    int gzipped = 0;
    for (int i = 0; i < count; i++) {
      byte[] input = mutate(seeds.get(r.nextInt(seeds.size())), r);
      int how = r.nextInt(4);
      if (how == 0) { // mutate, then compress: the damage reaches the parser past gzip
        input = IdxFiles.gzip(input);
        gzipped++;
      } else if (how == 1) { // compress, then mutate: damage in the gzip stream itself
        input = mutate(IdxFiles.gzip(seeds.get(r.nextInt(seeds.size()))), r);
        gzipped++;
      }
      try {
        IdxReader.parse(input, "fuzz/input");
        loaded++;
      } catch (IdxFormatException e) {
        assertTrue(e.getMessage().startsWith("fuzz/input: "), e.getMessage());
        rejected++;
      } catch (Throwable t) {
        throw new AssertionError(
            "input "
                + i
                + " (seed "
                + seed
                + ") threw "
                + t
                + " on "
                + java.util.HexFormat.of().formatHex(input),
            t);
      }
    }
    System.out.printf(
        "IDX fuzz: %d inputs (seed %d, %d gzip): %d loaded, %d rejected with IdxFormatException%n",
        count, seed, gzipped, loaded, rejected);
    assertTrue(rejected > count / 2, "most mutations are rejected: " + rejected);
    assertTrue(loaded > 0, "some mutations (e.g. of pixel values) still load: " + loaded);
  }
}
