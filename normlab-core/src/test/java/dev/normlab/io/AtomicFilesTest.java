package dev.normlab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that dies half way leaves the previous file byte for byte, and no temp file. */
class AtomicFilesTest {
  @TempDir Path tmp;

  @AfterEach
  void reset() {
    AtomicFiles.setChannelDecoratorForTests(null);
  }

  /** Passes {@code limit} bytes through, then fails as a crash or a full disk would. */
  private static WritableByteChannel dyingAfter(WritableByteChannel inner, int limit) {
    return new WritableByteChannel() {
      int written;

      @Override
      public int write(ByteBuffer src) throws IOException {
        if (written >= limit) {
          throw new IOException("simulated crash half way");
        }
        int n = Math.min(src.remaining(), limit - written);
        int w = inner.write(src.slice(src.position(), n));
        src.position(src.position() + w);
        written += w;
        return w;
      }

      @Override
      public boolean isOpen() {
        return inner.isOpen();
      }

      @Override
      public void close() throws IOException {
        inner.close();
      }
    };
  }

  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void failedWriteKeepsThePreviousFile() throws Exception {
    Path f = tmp.resolve("last.safetensors");
    byte[] old = new byte[100_000];
    java.util.Arrays.fill(old, (byte) 7);
    AtomicFiles.write(f, old);
    byte[] fresh = new byte[200_000];
    java.util.Arrays.fill(fresh, (byte) 9);
    AtomicFiles.setChannelDecoratorForTests(ch -> dyingAfter(ch, 100_000));
    IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, fresh));
    assertEquals("simulated crash half way", e.getMessage());
    assertArrayEquals(old, Files.readAllBytes(f));
    assertEquals(List.of("last.safetensors"), names());
    AtomicFiles.setChannelDecoratorForTests(null);
    AtomicFiles.write(f, fresh);
    assertArrayEquals(fresh, Files.readAllBytes(f));
    assertEquals(List.of("last.safetensors"), names());
  }

  @Test
  void checkpointsAreWrittenThroughIt() throws Exception {
    Path f = tmp.resolve("c.safetensors");
    CheckpointTest.Outer m = new CheckpointTest.Outer(3, 1);
    Checkpoint.save(f, m, null, new Checkpoint.Info(1, 10));
    byte[] before = Files.readAllBytes(f);
    AtomicFiles.setChannelDecoratorForTests(ch -> dyingAfter(ch, before.length / 2));
    assertThrows(
        IOException.class,
        () -> Checkpoint.save(f, new CheckpointTest.Outer(3, 2), null, new Checkpoint.Info(2, 20)));
    assertArrayEquals(before, Files.readAllBytes(f));
    assertEquals(10, Checkpoint.load(f).info().step());
    assertEquals(List.of("c.safetensors"), names());
  }
}
