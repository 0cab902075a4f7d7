package dev.normlab.io;

import dev.normlab.tensor.DType;
import dev.normlab.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format,
 * byte for byte as the reference implementation writes it:
 *
 * <pre>
 *   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded to a multiple of 8 | data
 * </pre>
 *
 * The header maps each tensor name to {@code {"dtype":"F32","shape":[..],"data_offsets":[b,e]}}
 * (offsets relative to the start of the data, tensors contiguous and in header order) and may hold
 * {@code "__metadata__"}, a map of strings, first. Tensors are ordered by dtype alignment
 * (descending: I64 before F32), then by name (byte order); metadata keys are written sorted. Data
 * is little-endian, row-major. normlab tensors are F32 or I64.
 *
 * <p>The reader checks everything and reports any problem as a {@link SafeTensorsException} whose
 * message starts with the file name; it throws nothing else on malformed input.
 */
public final class SafeTensors {
  /** The reference implementation's limit on the header size. */
  public static final long MAX_HEADER = 100_000_000L;

  public static final String METADATA_KEY = "__metadata__";

  private SafeTensors() {}

  /**
   * A loaded file: its tensors in file order, its metadata, and the SHA-256 of the data section.
   */
  public record Contents(
      Map<String, Tensor> tensors, Map<String, String> metadata, String dataSha256) {
    public Contents {
      tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public Tensor get(String name) {
      return tensors.get(name);
    }
  }

  // ------------------------------------------------------------------ writing

  /** Writes the tensors and metadata to {@code file} (through a temp file and an atomic rename). */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    writeAtomically(file, serialize(tensors, metadata));
  }

  /** The file's bytes. {@code metadata} may be null or empty (then no {@code __metadata__}). */
  public static byte[] serialize(Map<String, Tensor> tensors, Map<String, String> metadata) {
    return serialize(tensors, metadata, null);
  }

  /**
   * Serializes; if {@code checksumKey} is not null, the SHA-256 of the data section is added to the
   * metadata under that key.
   */
  static byte[] serialize(
      Map<String, Tensor> tensors, Map<String, String> metadata, String checksumKey) {
    return serialize(tensors, metadata, checksumKey, null);
  }

  /**
   * Serializes with checksums: {@code checksumKey} (if not null) gets the SHA-256 of the data
   * section, {@code contentChecksumKey} (if not null) the {@link #contentSha256} of everything else
   * too (metadata, tensor names, dtypes and shapes), so that no byte of the file can change
   * unnoticed.
   */
  static byte[] serialize(
      Map<String, Tensor> tensors,
      Map<String, String> metadata,
      String checksumKey,
      String contentChecksumKey) {
    List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.entrySet());
    // Descending dtype alignment (I64 = 8 bytes before F32 = 4), then by name in byte order.
    order.sort(
        Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> -rank(e.getValue().dtype()))
            .thenComparing(Map.Entry::getKey, SafeTensors::compareUtf8));
    long dataLen = 0;
    for (var e : order) {
      if (e.getKey() == null || e.getKey().equals(METADATA_KEY)) {
        throw new IllegalArgumentException("invalid tensor name " + e.getKey());
      }
      dataLen += (long) e.getValue().numel() * e.getValue().dtype().bytes();
    }
    if (dataLen > Integer.MAX_VALUE - 64L) {
      throw new IllegalArgumentException("tensors too large for one file: " + dataLen + " bytes");
    }
    ByteBuffer data = ByteBuffer.allocate((int) dataLen).order(ByteOrder.LITTLE_ENDIAN);
    StringBuilder tensorsJson = new StringBuilder();
    for (var e : order) {
      Tensor t = e.getValue();
      long begin = data.position();
      float[] d = t.data();
      if (t.dtype() == DType.INT64) {
        for (float v : d) {
          data.putLong((long) v);
        }
      } else {
        data.asFloatBuffer().put(d);
        data.position(data.position() + 4 * d.length);
      }
      tensorsJson.append(',');
      Json.quote(tensorsJson, e.getKey());
      tensorsJson
          .append(":{\"dtype\":\"")
          .append(t.dtype().safetensorsName())
          .append("\",\"shape\":[");
      int[] shape = t.shape();
      for (int k = 0; k < shape.length; k++) {
        if (k > 0) {
          tensorsJson.append(',');
        }
        tensorsJson.append(shape[k]);
      }
      tensorsJson
          .append("],\"data_offsets\":[")
          .append(begin)
          .append(',')
          .append(data.position())
          .append("]}");
    }
    byte[] dataBytes = data.array();
    TreeMap<String, String> meta = new TreeMap<>(SafeTensors::compareUtf8);
    if (metadata != null) {
      meta.putAll(metadata);
    }
    String dataSha = sha256Hex(dataBytes, 0, dataBytes.length);
    if (contentChecksumKey != null) {
      Map<String, Tensor> inFileOrder = new LinkedHashMap<>();
      for (var e : order) {
        inFileOrder.put(e.getKey(), e.getValue());
      }
      if (checksumKey != null) {
        meta.put(checksumKey, dataSha);
      }
      meta.put(contentChecksumKey, contentSha256(inFileOrder, meta, contentChecksumKey, dataSha));
    } else if (checksumKey != null) {
      meta.put(checksumKey, dataSha);
    }
    StringBuilder header = new StringBuilder("{");
    if (!meta.isEmpty()) {
      Json.quote(header, METADATA_KEY);
      header.append(":{");
      boolean first = true;
      for (var e : meta.entrySet()) {
        if (!first) {
          header.append(',');
        }
        first = false;
        Json.quote(header, e.getKey());
        header.append(':');
        Json.quote(header, e.getValue());
      }
      header.append('}');
      header.append(tensorsJson);
    } else if (tensorsJson.length() > 0) {
      header.append(tensorsJson, 1, tensorsJson.length());
    }
    header.append('}');
    byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    byte[] out = new byte[8 + padded + dataBytes.length];
    ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
    System.arraycopy(h, 0, out, 8, h.length);
    Arrays.fill(out, 8 + h.length, 8 + padded, (byte) ' ');
    System.arraycopy(dataBytes, 0, out, 8 + padded, dataBytes.length);
    return out;
  }

  /** Position of a dtype in the reference implementation's alignment order. */
  private static int rank(DType t) {
    return switch (t) {
      case FLOAT32 -> 11;
      case INT64 -> 13;
    };
  }

  private static int compareUtf8(String a, String b) {
    return Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} to a temp file beside {@code file}, syncs it, and renames it over. */
  static void writeAtomically(Path file, byte[] bytes) throws IOException {
    AtomicFiles.write(file, bytes);
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads and validates {@code file}. Malformed content is a {@link SafeTensorsException}; failing
   * I/O (missing file, permissions) is the usual {@link IOException}.
   */
  public static Contents read(Path file) throws IOException {
    String name = file.toString();
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(name, null, "no such safetensors file");
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new SafeTensorsException(name + ": file of " + size + " bytes is too large to load");
    }
    return parse(Files.readAllBytes(file), name);
  }

  /** Parses and validates a whole file held in memory; {@code name} is used in messages. */
  public static Contents parse(byte[] b, String name) throws SafeTensorsException {
    if (b.length < 8) {
      throw fail(name, "file has " + b.length + " bytes, less than the 8-byte header length");
    }
    long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (n < 0 || n > MAX_HEADER) {
      throw fail(
          name,
          "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER);
    }
    if (8 + n > b.length) {
      throw fail(
          name, "header length " + n + " runs past the end of the " + b.length + "-byte file");
    }
    int hn = (int) n;
    String header;
    try {
      header =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(b, 8, hn))
              .toString();
    } catch (CharacterCodingException e) {
      throw fail(name, "header is not valid UTF-8");
    }
    if (header.isEmpty() || header.charAt(0) != '{') {
      throw fail(name, "header does not start with '{'");
    }
    Object root;
    try {
      root = Json.parse(header);
    } catch (Json.ParseException e) {
      throw fail(name, "header is not valid JSON: " + e.getMessage());
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw fail(name, "header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    record Info(String name, DType dtype, int[] shape, long begin, long end) {}
    List<Info> infos = new ArrayList<>();
    for (var e : top.entrySet()) {
      String key = (String) e.getKey();
      Object v = e.getValue();
      if (key.equals(METADATA_KEY)) {
        if (!(v instanceof Map<?, ?> mm)) {
          throw fail(name, "__metadata__ must be an object of strings");
        }
        for (var me : mm.entrySet()) {
          if (!(me.getValue() instanceof String sv)) {
            throw fail(name, "__metadata__ value of \"" + me.getKey() + "\" is not a string");
          }
          metadata.put((String) me.getKey(), sv);
        }
        continue;
      }
      String where = "tensor \"" + key + "\"";
      if (!(v instanceof Map<?, ?> tm)) {
        throw fail(name, where + ": entry is not an object");
      }
      for (Object f : tm.keySet()) {
        if (!f.equals("dtype") && !f.equals("shape") && !f.equals("data_offsets")) {
          throw fail(name, where + ": unknown field \"" + f + "\"");
        }
      }
      if (!(tm.get("dtype") instanceof String ds)) {
        throw fail(name, where + ": missing or non-string \"dtype\"");
      }
      DType dtype =
          switch (ds) {
            case "F32" -> DType.FLOAT32;
            case "I64" -> DType.INT64;
            default ->
                throw fail(
                    name,
                    where
                        + ": dtype "
                        + ds
                        + " is not supported (normlab reads F32 and I64; convert with"
                        + " .float() or .long() before saving)");
          };
      if (!(tm.get("shape") instanceof List<?> sl)) {
        throw fail(name, where + ": missing or non-array \"shape\"");
      }
      int[] shape = new int[sl.size()];
      long numel = 1;
      for (int k = 0; k < shape.length; k++) {
        long d = nonNegative(sl.get(k), name, where + ": shape[" + k + "]");
        if (d > Integer.MAX_VALUE) {
          throw fail(name, where + ": shape[" + k + "] = " + d + " is too large");
        }
        shape[k] = (int) d;
        numel = numel == 0 || d == 0 ? 0 : numel * d;
        if (numel > Integer.MAX_VALUE - 8) {
          throw fail(name, where + ": shape " + sl + " has too many elements");
        }
      }
      if (!(tm.get("data_offsets") instanceof List<?> ol) || ol.size() != 2) {
        throw fail(name, where + ": \"data_offsets\" must be an array of two integers");
      }
      long begin = nonNegative(ol.get(0), name, where + ": data_offsets[0]");
      long end = nonNegative(ol.get(1), name, where + ": data_offsets[1]");
      if (end < begin) {
        throw fail(name, where + ": data_offsets [" + begin + ", " + end + "] end before begin");
      }
      long expect = numel * dtype.bytes();
      if (end - begin != expect) {
        throw fail(
            name,
            where
                + ": shape "
                + Arrays.toString(shape)
                + " of "
                + ds
                + " needs "
                + expect
                + " bytes but data_offsets ["
                + begin
                + ", "
                + end
                + "] span "
                + (end - begin));
      }
      infos.add(new Info(key, dtype, shape, begin, end));
    }
    infos.sort(Comparator.comparingLong(Info::begin).thenComparingLong(Info::end));
    long dataStart = 8 + n;
    long dataLen = b.length - dataStart;
    long pos = 0;
    for (Info in : infos) {
      if (in.begin() != pos) {
        throw fail(
            name,
            "tensor \""
                + in.name()
                + "\": data_offsets start at "
                + in.begin()
                + " but the previous tensor ends at "
                + pos
                + " (tensors must be contiguous from 0)");
      }
      if (in.end() > dataLen) {
        throw fail(
            name,
            "tensor \""
                + in.name()
                + "\": data_offsets end "
                + in.end()
                + " is past the end of the "
                + dataLen
                + "-byte data section");
      }
      pos = in.end();
    }
    if (pos != dataLen) {
      throw fail(
          name,
          "data section has "
              + dataLen
              + " bytes but the tensors cover "
              + pos
              + " (trailing or missing bytes)");
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    for (Info in : infos) {
      int off = (int) (dataStart + in.begin());
      int count = (int) ((in.end() - in.begin()) / in.dtype().bytes());
      float[] d = new float[count];
      if (in.dtype() == DType.INT64) {
        for (int k = 0; k < count; k++) {
          d[k] = bb.getLong(off + 8 * k);
        }
      } else {
        bb.slice(off, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(d);
      }
      tensors.put(in.name(), Tensor.of(in.dtype(), d, in.shape()));
    }
    return new Contents(tensors, metadata, sha256Hex(b, (int) dataStart, (int) dataLen));
  }

  private static long nonNegative(Object o, String file, String what) throws SafeTensorsException {
    if (o instanceof Long l && l >= 0) {
      return l;
    }
    String got = String.valueOf(o);
    throw fail(
        file,
        what
            + " must be a non-negative integer, got "
            + (got.length() > 40 ? got.substring(0, 40) + "..." : got));
  }

  private static SafeTensorsException fail(String file, String problem) {
    return new SafeTensorsException(file + ": " + problem);
  }

  /**
   * SHA-256 over a canonical form of the whole file: every metadata entry except {@code
   * excludedKey} (sorted, length-prefixed), each tensor's name, dtype and shape in file order, and
   * the data section's SHA-256.
   */
  public static String contentSha256(
      Map<String, Tensor> tensorsInFileOrder,
      Map<String, String> metadata,
      String excludedKey,
      String dataSha256) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      TreeMap<String, String> meta = new TreeMap<>(SafeTensors::compareUtf8);
      meta.putAll(metadata);
      meta.remove(excludedKey);
      ByteBuffer num = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      java.util.function.Consumer<String> str =
          v -> {
            byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
            md.update(num.clear().putLong(bytes.length).array());
            md.update(bytes);
          };
      md.update(num.clear().putLong(meta.size()).array());
      meta.forEach(
          (k, v) -> {
            str.accept(k);
            str.accept(v);
          });
      md.update(num.clear().putLong(tensorsInFileOrder.size()).array());
      for (var e : tensorsInFileOrder.entrySet()) {
        str.accept(e.getKey());
        str.accept(e.getValue().dtype().safetensorsName());
        int[] shape = e.getValue().shape();
        md.update(num.clear().putLong(shape.length).array());
        for (int d : shape) {
          md.update(num.clear().putLong(d).array());
        }
      }
      str.accept(dataSha256);
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sha256Hex(byte[] b, int off, int len) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(b, off, len);
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
