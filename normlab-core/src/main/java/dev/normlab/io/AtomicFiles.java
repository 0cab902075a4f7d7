package dev.normlab.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Crash-safe file replacement: the bytes go to a temp file in the target's directory, are synced to
 * disk, and the temp file is renamed over the target in one atomic step (then the directory is
 * synced). A reader sees the old file or the new one, never a mix; a crash or a full disk half way
 * leaves the old file as it was and no temp file behind (except after a hard kill, when a stray
 * {@code .<name>*.tmp} may remain; it is never read).
 */
public final class AtomicFiles {
  private static volatile UnaryOperator<WritableByteChannel> channelDecorator =
      UnaryOperator.identity();

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private AtomicFiles() {}

  /** Replaces {@code file}'s contents with {@code bytes} atomically. */
  public static void write(Path file, byte[] bytes) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    // Not Files.createTempFile: that makes the file owner-only; this one gets the usual umask.
    Path tmp =
        dir.resolve(
            "." + abs.getFileName() + "." + Long.toHexString(RANDOM.nextLong() >>> 1) + ".tmp");
    boolean moved = false;
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
        WritableByteChannel out = channelDecorator.apply(ch);
        ByteBuffer bb = ByteBuffer.wrap(bytes);
        while (bb.hasRemaining()) {
          out.write(bb);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
      syncDirectory(dir);
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Makes the rename durable; some platforms cannot open a directory, which is harmless. */
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // the data itself is synced; only the rename's durability is left to the OS
    }
  }

  /**
   * Test seam: wraps the channel the bytes are written through (e.g. one that fails half way, as a
   * crash or a full disk would). Pass null to restore the default.
   */
  public static void setChannelDecoratorForTests(UnaryOperator<WritableByteChannel> decorator) {
    channelDecorator = Objects.requireNonNullElse(decorator, UnaryOperator.identity());
  }
}
