package dev.normlab.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.GZIPOutputStream;

/** Builds small IDX files for tests. */
final class IdxFiles {
  private IdxFiles() {}

  static byte[] idx(int type, int[] dims, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(0);
    out.write(type);
    out.write(dims.length);
    for (int d : dims) {
      out.write(d >>> 24);
      out.write(d >>> 16);
      out.write(d >>> 8);
      out.write(d);
    }
    out.writeBytes(data);
    return out.toByteArray();
  }

  static byte[] images(int n, int rows, int cols, long seed) {
    byte[] px = new byte[n * rows * cols];
    java.util.Random r = new java.util.Random(seed);
    r.nextBytes(px);
    return idx(8, new int[] {n, rows, cols}, px);
  }

  static byte[] labels(int n, int classes, long seed) {
    byte[] l = new byte[n];
    java.util.Random r = new java.util.Random(seed);
    for (int i = 0; i < n; i++) {
      l[i] = (byte) r.nextInt(classes);
    }
    return idx(8, new int[] {n}, l);
  }

  static byte[] gzip(byte[] raw) {
    try {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
        gz.write(raw);
      }
      return bos.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String sha256(byte[] b) {
    return java.util.HexFormat.of().formatHex(IdxReader.sha256().digest(b));
  }
}
