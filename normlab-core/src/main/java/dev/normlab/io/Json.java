package dev.normlab.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader and writer (RFC 8259), enough for safetensors headers and config
 * blobs. Objects become {@link LinkedHashMap} (duplicate keys are an error), arrays {@link List},
 * integers without fraction or exponent {@link Long} (or {@link Double} when too large), other
 * numbers {@link Double}, and {@code true}/{@code false}/{@code null} as Java's. Nesting is limited
 * to {@value #MAX_DEPTH} levels.
 */
public final class Json {
  public static final int MAX_DEPTH = 128;

  private Json() {}

  /** Malformed JSON; the message gives the character offset. */
  public static final class ParseException extends Exception {
    private final int offset;

    ParseException(String message, int offset) {
      super(message + " at offset " + offset);
      this.offset = offset;
    }

    public int offset() {
      return offset;
    }
  }

  /** Parses one JSON value; only whitespace may follow it. */
  public static Object parse(String text) throws ParseException {
    Parser p = new Parser(text);
    p.ws();
    Object v = p.value(0);
    p.ws();
    if (p.i != text.length()) {
      throw new ParseException("unexpected '" + text.charAt(p.i) + "' after the JSON value", p.i);
    }
    return v;
  }

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) {
      this.s = s;
    }

    void ws() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          i++;
        } else {
          break;
        }
      }
    }

    ParseException err(String m) {
      return new ParseException(m, i);
    }

    Object value(int depth) throws ParseException {
      if (depth > MAX_DEPTH) {
        throw err("nesting deeper than " + MAX_DEPTH);
      }
      if (i >= s.length()) {
        throw err("unexpected end of input");
      }
      char c = s.charAt(i);
      return switch (c) {
        case '{' -> object(depth);
        case '[' -> array(depth);
        case '"' -> string();
        case 't' -> literal("true", Boolean.TRUE);
        case 'f' -> literal("false", Boolean.FALSE);
        case 'n' -> literal("null", null);
        default -> {
          if (c == '-' || (c >= '0' && c <= '9')) {
            yield number();
          }
          throw err("unexpected character '" + printable(c) + "'");
        }
      };
    }

    Object literal(String word, Object v) throws ParseException {
      if (!s.startsWith(word, i)) {
        throw err("invalid literal");
      }
      i += word.length();
      return v;
    }

    Map<String, Object> object(int depth) throws ParseException {
      Map<String, Object> m = new LinkedHashMap<>();
      i++; // {
      ws();
      if (i < s.length() && s.charAt(i) == '}') {
        i++;
        return m;
      }
      while (true) {
        ws();
        if (i >= s.length() || s.charAt(i) != '"') {
          throw err("expected a string key");
        }
        int keyAt = i;
        String k = string();
        ws();
        expect(':');
        ws();
        Object v = value(depth + 1);
        if (m.containsKey(k)) {
          throw new ParseException("duplicate key \"" + k + "\"", keyAt);
        }
        m.put(k, v);
        ws();
        if (i >= s.length()) {
          throw err("unterminated object");
        }
        char c = s.charAt(i++);
        if (c == '}') {
          return m;
        }
        if (c != ',') {
          i--;
          throw err("expected ',' or '}'");
        }
      }
    }

    List<Object> array(int depth) throws ParseException {
      List<Object> a = new ArrayList<>();
      i++; // [
      ws();
      if (i < s.length() && s.charAt(i) == ']') {
        i++;
        return a;
      }
      while (true) {
        ws();
        a.add(value(depth + 1));
        ws();
        if (i >= s.length()) {
          throw err("unterminated array");
        }
        char c = s.charAt(i++);
        if (c == ']') {
          return a;
        }
        if (c != ',') {
          i--;
          throw err("expected ',' or ']'");
        }
      }
    }

    void expect(char c) throws ParseException {
      if (i >= s.length() || s.charAt(i) != c) {
        throw err("expected '" + c + "'");
      }
      i++;
    }

    String string() throws ParseException {
      i++; // opening quote
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (i >= s.length()) {
          throw err("unterminated string");
        }
        char c = s.charAt(i++);
        if (c == '"') {
          return sb.toString();
        }
        if (c < 0x20) {
          i--;
          throw err("unescaped control character in string");
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        if (i >= s.length()) {
          throw err("unterminated escape");
        }
        char e = s.charAt(i++);
        switch (e) {
          case '"' -> sb.append('"');
          case '\\' -> sb.append('\\');
          case '/' -> sb.append('/');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            if (i + 4 > s.length()) {
              throw err("truncated \\u escape");
            }
            int v = 0;
            for (int k = 0; k < 4; k++) {
              int d = Character.digit(s.charAt(i + k), 16);
              if (d < 0) {
                throw err("bad \\u escape");
              }
              v = v * 16 + d;
            }
            i += 4;
            sb.append((char) v);
          }
          default -> {
            i--;
            throw err("bad escape '\\" + printable(e) + "'");
          }
        }
      }
    }

    Object number() throws ParseException {
      int start = i;
      if (s.charAt(i) == '-') {
        i++;
      }
      if (i >= s.length()) {
        throw err("truncated number");
      }
      char c = s.charAt(i);
      if (c == '0') {
        i++;
      } else if (c >= '1' && c <= '9') {
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
      } else {
        throw err("bad number");
      }
      boolean integral = true;
      if (i < s.length() && s.charAt(i) == '.') {
        integral = false;
        i++;
        digits();
      }
      if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
        integral = false;
        i++;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
          i++;
        }
        digits();
      }
      String t = s.substring(start, i);
      if (integral) {
        try {
          return Long.parseLong(t);
        } catch (NumberFormatException tooBig) {
          return Double.parseDouble(t);
        }
      }
      return Double.parseDouble(t);
    }

    void digits() throws ParseException {
      int st = i;
      while (i < s.length() && isDigit(s.charAt(i))) {
        i++;
      }
      if (i == st) {
        throw err("expected digits");
      }
    }

    static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }

  private static String printable(char c) {
    return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }

  // ------------------------------------------------------------------ writing

  /**
   * Compact JSON of maps (in their iteration order), lists, strings, numbers, booleans and null.
   * Strings are escaped as serde_json does (only {@code "}, {@code \}, and control characters).
   */
  public static String write(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String str) {
      quote(sb, str);
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (var e : m.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(sb, String.valueOf(e.getKey()));
        sb.append(':');
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof Iterable<?> it) {
      sb.append('[');
      boolean first = true;
      for (Object o : it) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        write(sb, o);
      }
      sb.append(']');
    } else if (v instanceof long[] la) {
      sb.append('[');
      for (int k = 0; k < la.length; k++) {
        if (k > 0) {
          sb.append(',');
        }
        sb.append(la[k]);
      }
      sb.append(']');
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("JSON has no " + d);
      }
      sb.append(
          d == Math.rint(d) && Math.abs(d) < 1e15
              ? Long.toString((long) d) + ".0"
              : Double.toString(d));
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
    }
  }

  /** Appends {@code s} as a JSON string literal. */
  public static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
