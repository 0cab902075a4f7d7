package dev.normlab.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/** A minimal ustar reader: enough to take regular files out of an npm package tarball. */
final class TarReader {
  private TarReader() {}

  /**
   * Reads every entry; for regular files whose name {@code target} maps to a path, writes the
   * content there.
   */
  static void extract(InputStream in, Function<String, Path> target) throws IOException {
    byte[] header = new byte[512];
    while (true) {
      int n = in.readNBytes(header, 0, 512);
      if (n == 0) {
        return;
      }
      if (n < 512) {
        throw new IOException("truncated tar header");
      }
      boolean zero = true;
      for (byte b : header) {
        if (b != 0) {
          zero = false;
          break;
        }
      }
      if (zero) {
        return;
      }
      String name = field(header, 0, 100);
      String prefix = field(header, 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
      long size = octal(header, 124, 12);
      char type = (char) header[156];
      Path out = (type == '0' || type == 0) ? target.apply(name) : null;
      long padded = (size + 511) / 512 * 512;
      if (out != null) {
        try (OutputStream os = Files.newOutputStream(out)) {
          copy(in, os, size);
        }
        skip(in, padded - size);
      } else {
        skip(in, padded);
      }
    }
  }

  private static String field(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) {
      end++;
    }
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }

  private static long octal(byte[] h, int off, int len) throws IOException {
    String s = field(h, off, len).trim();
    if (s.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(s, 8);
    } catch (NumberFormatException e) {
      throw new IOException("bad tar size field '" + s + "'");
    }
  }

  private static void copy(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buf = new byte[1 << 16];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new IOException("truncated tar entry");
      }
      out.write(buf, 0, r);
      n -= r;
    }
  }

  private static void skip(InputStream in, long n) throws IOException {
    while (n > 0) {
      long s = in.skip(n);
      if (s <= 0) {
        if (in.read() < 0) {
          throw new IOException("truncated tar");
        }
        s = 1;
      }
      n -= s;
    }
  }
}
