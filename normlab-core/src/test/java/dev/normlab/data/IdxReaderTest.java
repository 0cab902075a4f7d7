package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  @TempDir Path tmp;

  @Test
  void readsRawAndGzipAlike() throws Exception {
    byte[] raw = IdxFiles.images(5, 3, 4, 1);
    Path dir = Files.createDirectories(tmp.resolve("mnist"));
    Files.write(dir.resolve("a-idx3-ubyte"), raw);
    Files.write(dir.resolve("a-idx3-ubyte.gz"), IdxFiles.gzip(raw));
    IdxReader.IdxData a = IdxReader.read(dir.resolve("a-idx3-ubyte"));
    IdxReader.IdxData b = IdxReader.read(dir.resolve("a-idx3-ubyte.gz"));
    assertArrayEquals(new int[] {5, 3, 4}, a.dims());
    assertArrayEquals(a.data(), b.data());
    assertArrayEquals(Arrays.copyOfRange(raw, 16, raw.length), a.data());
    assertEquals(IdxFiles.sha256(raw), a.sha256());
    assertEquals(IdxFiles.sha256(raw), b.sha256());
    assertEquals(IdxFiles.sha256(raw), IdxReader.sha256OfContent(dir.resolve("a-idx3-ubyte.gz")));
    assertEquals("mnist/a-idx3-ubyte.gz", b.source());
    assertEquals(5, a.count());
  }

  @Test
  void gzipIsDetectedByMagicNotName() throws Exception {
    byte[] raw = IdxFiles.labels(7, 10, 2);
    Path p = tmp.resolve("labels-no-suffix");
    Files.write(p, IdxFiles.gzip(raw));
    assertEquals(7, IdxReader.read(p).count());
    Path q = tmp.resolve("labels.gz");
    Files.write(q, raw);
    assertEquals(7, IdxReader.read(q).count());
  }

  private static String failure(byte[] bytes, String name) {
    return assertThrows(IdxFormatException.class, () -> IdxReader.parse(bytes, name)).getMessage();
  }

  @Test
  void truncatedDataNamesFileAndSizes() throws Exception {
    byte[] raw = IdxFiles.images(60, 28, 28, 3);
    byte[] cut = Arrays.copyOf(raw, 16 + 1000);
    assertEquals(
        "mnist/train-images-idx3-ubyte.gz: truncated: header promises 47040 bytes of data, file"
            + " has 1000",
        failure(IdxFiles.gzip(cut), "mnist/train-images-idx3-ubyte.gz"));
    Path p = tmp.resolve("mnist").resolve("train-images-idx3-ubyte");
    Files.createDirectories(p.getParent());
    Files.write(p, cut);
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(p));
    assertTrue(
        e.getMessage().startsWith("mnist/train-images-idx3-ubyte: truncated"), e.getMessage());
  }

  @Test
  void truncatedHeader() {
    byte[] raw = IdxFiles.images(2, 2, 2, 3);
    assertTrue(failure(Arrays.copyOf(raw, 2), "x").contains("truncated"));
    assertTrue(failure(Arrays.copyOf(raw, 9), "x").contains("header promises 3 dimension sizes"));
    assertTrue(failure(new byte[0], "x").contains("truncated"));
  }

  @Test
  void badMagicAndUnsupportedTypes() {
    byte[] raw = IdxFiles.images(2, 2, 2, 3);
    byte[] bad = raw.clone();
    bad[0] = 7;
    assertTrue(failure(bad, "f").contains("bad magic number 0x07000803"), failure(bad, "f"));
    byte[] floats = IdxFiles.idx(0x0D, new int[] {1}, new byte[4]);
    String m = failure(floats, "f");
    assertTrue(m.contains("unsupported IDX element type 0x0d (float)"), m);
    assertTrue(failure(IdxFiles.idx(8, new int[0], new byte[0]), "f").contains("rank 0"));
  }

  @Test
  void trailingBytesAreAnError() {
    byte[] raw = IdxFiles.labels(4, 10, 1);
    byte[] longer = Arrays.copyOf(raw, raw.length + 3);
    String m = failure(longer, "l");
    assertTrue(m.contains("3 trailing bytes"), m);
  }

  @Test
  void absurdSizesAreRefusedBeforeAllocating() {
    byte[] raw = IdxFiles.idx(8, new int[] {60000, 60000, 60000}, new byte[0]);
    assertTrue(failure(raw, "big").contains("promise more than"));
    byte[] neg = IdxFiles.idx(8, new int[] {-1}, new byte[0]);
    assertTrue(failure(neg, "neg").contains("absurd size"));
  }

  @Test
  void corruptGzipIsAFormatError() {
    byte[] gz = IdxFiles.gzip(IdxFiles.images(20, 28, 28, 5));
    assertTrue(failure(Arrays.copyOf(gz, gz.length / 2), "g").startsWith("g: "));
    Random r = new Random(1);
    for (int trial = 0; trial < 300; trial++) {
      byte[] m = gz.clone();
      int flips = 1 + r.nextInt(4);
      for (int k = 0; k < flips; k++) {
        m[r.nextInt(m.length)] ^= (byte) (1 + r.nextInt(255));
      }
      try {
        IdxReader.parse(m, "g");
      } catch (IdxFormatException expected) {
        assertTrue(expected.getMessage().startsWith("g: "), expected.getMessage());
      }
    }
  }

  @Test
  void missingFile() {
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> IdxReader.read(tmp.resolve("nope")));
    assertTrue(e.getMessage().contains("no such file"));
  }
}
