package dev.normlab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.optim.SGD;
import dev.normlab.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with any single byte changed, or cut short anywhere, is refused with a message that
 * names the file; none loads with silently wrong contents (the content checksum also covers the
 * metadata: step, epoch, generator and loader state, config, history).
 */
class CheckpointDamageTest {
  @TempDir Path tmp;

  private Path goodCheckpoint() throws Exception {
    CheckpointTest.Outer m = new CheckpointTest.Outer(3, 11);
    SGD opt = new SGD(m.parameters(), 0.1, 0.9, 0, 0, false);
    for (Tensor p : m.parameters()) {
      p.setGrad(Tensor.onesLike(p));
    }
    opt.step();
    Path f = tmp.resolve("ck.safetensors");
    Checkpoint.save(
        f,
        m,
        opt,
        new Checkpoint.Info(
            2,
            37,
            new long[] {1, 2, 3, 4, 0, 0},
            "1,5,9,8,7,6,0,0",
            "{\"lr\":0.1}",
            Map.of("normlab.history", "1,16,0.5", Checkpoint.RUN_ID_KEY, "run-7")));
    return f;
  }

  @Test
  void everyChangedByteAndEveryTruncationIsRefused() throws Exception {
    Path f = goodCheckpoint();
    byte[] good = Files.readAllBytes(f);
    long headerLen = ByteBuffer.wrap(good, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    Path bad = tmp.resolve("bad.safetensors");
    SplittableRandom r = new SplittableRandom(5);
    int tried = 0;
    for (int i = 0; i < good.length; i++) { // every byte: header, padding and data
      byte[] b = good.clone();
      b[i] ^= (byte) (1 + r.nextInt(255));
      Files.write(bad, b);
      CheckpointException e =
          assertThrows(
              CheckpointException.class, () -> Checkpoint.load(bad), "byte " + i + " changed");
      assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
      tried++;
    }
    for (int len = 0; len < good.length; len += 1 + r.nextInt(7)) {
      Files.write(bad, Arrays.copyOf(good, len));
      CheckpointException e =
          assertThrows(CheckpointException.class, () -> Checkpoint.load(bad), "cut to " + len);
      assertTrue(e.getMessage().startsWith(bad + ": damaged checkpoint"), e.getMessage());
      tried++;
    }
    System.out.printf(
        "checkpoint damage: %d damaged copies of a %d-byte checkpoint (header %d bytes), all refused%n",
        tried, good.length, headerLen);
    assertTrue(Checkpoint.load(f).info().step() == 37);
  }

  @Test
  void editedMetadataIsCaughtByTheContentChecksum() throws Exception {
    Path f = goodCheckpoint();
    String s = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
    // Same length, still valid JSON and a valid number: only the checksum can tell.
    String edited = s.replace("\"normlab.step\":\"37\"", "\"normlab.step\":\"38\"");
    assertTrue(!edited.equals(s));
    Files.write(f, edited.getBytes(StandardCharsets.ISO_8859_1));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(f));
    assertTrue(
        e.getMessage()
            .startsWith(
                f + ": damaged checkpoint, refusing to load it: SHA-256 of its contents is "),
        e.getMessage());
  }

  @Test
  void versionOneCheckpointsStillLoad() throws Exception {
    CheckpointTest.Outer m = new CheckpointTest.Outer(2, 3);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("normlab.format", Checkpoint.FORMAT_V1);
    meta.put("normlab.epoch", "1");
    meta.put("normlab.step", "4");
    Path f = tmp.resolve("v1.safetensors");
    Files.write(f, SafeTensors.serialize(m.stateDict(), meta, Checkpoint.SHA256_KEY));
    Checkpoint c = Checkpoint.load(f);
    assertEquals(4, c.info().step());
    assertArrayEquals(m.stateDict().get("0.weight").data(), c.modelState().get("0.weight").data());
  }
}
