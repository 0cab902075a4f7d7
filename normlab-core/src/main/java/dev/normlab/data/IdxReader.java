package dev.normlab.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files of unsigned bytes (the MNIST family's format), gzip-compressed or raw; gzip is
 * detected by its magic bytes {@code 1f 8b}, not by the file name.
 *
 * <p>Layout: two zero bytes, a type byte ({@code 0x08} = unsigned byte, the only type accepted), a
 * rank byte, {@code rank} big-endian 32-bit sizes, then {@code prod(sizes)} data bytes and nothing
 * else. Every violation is an {@link IdxFormatException} naming the file.
 */
public final class IdxReader {
  /** Upper bound on the data of one file (2 GiB - 8, Java's array limit). */
  static final long MAX_DATA = Integer.MAX_VALUE - 8L;

  private IdxReader() {}

  /** A parsed IDX file: its sizes, its data bytes (unsigned) and the SHA-256 of the raw IDX. */
  public record IdxData(String source, int[] dims, byte[] data, String sha256) {
    /** Number of items (the first size). */
    public int count() {
      return dims.length == 0 ? 1 : dims[0];
    }

    /** The unsigned value of data byte {@code i}. */
    public int unsigned(int i) {
      return data[i] & 0xFF;
    }

    @Override
    public String toString() {
      return "IdxData[" + source + ", dims=" + Arrays.toString(dims) + "]";
    }
  }

  /** Reads {@code file}; the message of any error names it by its last two path elements. */
  public static IdxData read(Path file) throws IOException {
    String name = displayName(file);
    if (!Files.isRegularFile(file)) {
      throw new IdxFormatException(name + ": no such file (" + file.toAbsolutePath() + ")");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, name);
    }
  }

  /** Parses an in-memory IDX file (gzip or raw). */
  public static IdxData parse(byte[] bytes, String name) throws IdxFormatException {
    try {
      return read(new ByteArrayInputStream(bytes), name);
    } catch (IdxFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new IdxFormatException(name + ": " + e.getMessage(), e);
    }
  }

  /** Parses IDX content from {@code raw} (gzip or plain); {@code name} is used in messages. */
  public static IdxData read(InputStream raw, String name) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    boolean gz = b0 == 0x1f && b1 == 0x8b;
    InputStream in;
    try {
      in = gz ? new GZIPInputStream(buffered, 1 << 16) : buffered;
    } catch (ZipException | EOFException e) {
      throw new IdxFormatException(name + ": corrupt gzip header (" + e.getMessage() + ")", e);
    }
    MessageDigest sha = sha256();
    DigestInputStream din = new DigestInputStream(in, sha);
    try {
      return readBody(din, name, sha);
    } catch (ZipException | EOFException e) {
      throw new IdxFormatException(name + ": corrupt gzip data (" + e.getMessage() + ")", e);
    }
  }

  private static IdxData readBody(InputStream in, String name, MessageDigest sha)
      throws IOException {
    byte[] head = in.readNBytes(4);
    if (head.length < 4) {
      throw new IdxFormatException(
          name + ": truncated: " + head.length + " bytes, an IDX header needs at least 4");
    }
    if (head[0] != 0 || head[1] != 0) {
      throw new IdxFormatException(
          name
              + ": bad magic number 0x"
              + HexFormat.of().formatHex(head)
              + " (an IDX file starts with 00 00, then its type and rank)");
    }
    int type = head[2] & 0xFF;
    if (type != 0x08) {
      throw new IdxFormatException(
          name
              + ": unsupported IDX element type 0x"
              + String.format("%02x", type)
              + " ("
              + typeName(type)
              + "); only 0x08 (unsigned byte) is supported");
    }
    int rank = head[3] & 0xFF;
    if (rank == 0) {
      throw new IdxFormatException(name + ": rank 0 in the magic number; expected 1 to 4");
    }
    byte[] sizeBytes = in.readNBytes(4 * rank);
    if (sizeBytes.length < 4 * rank) {
      throw new IdxFormatException(
          name
              + ": truncated: header promises "
              + rank
              + " dimension sizes ("
              + 4 * rank
              + " bytes), file has "
              + sizeBytes.length);
    }
    int[] dims = new int[rank];
    long total = 1;
    for (int i = 0; i < rank; i++) {
      int off = 4 * i;
      long d =
          ((sizeBytes[off] & 0xFFL) << 24)
              | ((sizeBytes[off + 1] & 0xFFL) << 16)
              | ((sizeBytes[off + 2] & 0xFFL) << 8)
              | (sizeBytes[off + 3] & 0xFFL);
      if (d > Integer.MAX_VALUE) {
        throw new IdxFormatException(name + ": dimension " + i + " has absurd size " + d);
      }
      dims[i] = (int) d;
      total *= d;
      if (total > MAX_DATA) {
        throw new IdxFormatException(
            name
                + ": sizes "
                + Arrays.toString(Arrays.copyOf(dims, i + 1))
                + " promise more than "
                + MAX_DATA
                + " bytes");
      }
    }
    byte[] data = in.readNBytes((int) total);
    if (data.length < total) {
      throw new IdxFormatException(
          name
              + ": truncated: header promises "
              + total
              + " bytes of data, file has "
              + data.length);
    }
    long extra = 0;
    byte[] skip = new byte[8192];
    int n;
    while ((n = in.read(skip)) > 0) {
      extra += n;
    }
    if (extra > 0) {
      throw new IdxFormatException(
          name
              + ": "
              + extra
              + " trailing bytes after the "
              + total
              + " bytes of data the header promises "
              + Arrays.toString(dims));
    }
    return new IdxData(name, dims, data, HexFormat.of().formatHex(sha.digest()));
  }

  private static String typeName(int type) {
    return switch (type) {
      case 0x09 -> "signed byte";
      case 0x0B -> "short";
      case 0x0C -> "int";
      case 0x0D -> "float";
      case 0x0E -> "double";
      default -> "unknown type";
    };
  }

  /**
   * The SHA-256 of the whole decompressed content of {@code file} (gzip or raw), lower-case hex.
   */
  public static String sha256OfContent(Path file) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.mark(2);
      boolean gz = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      MessageDigest sha = sha256();
      try (InputStream in = gz ? new GZIPInputStream(raw, 1 << 16) : raw) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          sha.update(buf, 0, n);
        }
      } catch (ZipException | EOFException e) {
        throw new IdxFormatException(
            displayName(file) + ": corrupt gzip data (" + e.getMessage() + ")", e);
      }
      return HexFormat.of().formatHex(sha.digest());
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** {@code parent/file} for messages such as {@code mnist/train-images-idx3-ubyte.gz}. */
  static String displayName(Path file) {
    Path f = file.getFileName();
    Path p = file.toAbsolutePath().getParent();
    if (f == null) {
      return file.toString();
    }
    return p != null && p.getFileName() != null ? p.getFileName() + "/" + f : f.toString();
  }
}
