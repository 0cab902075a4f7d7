package dev.normlab.track.web;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** The query parameters of one request, each validated before use (bad ones -> 400). */
final class Params {
  static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  static final Pattern RUN_LIST =
      Pattern.compile("[A-Za-z0-9_-]{1,64}(,[A-Za-z0-9_-]{1,64}){0,49}");
  static final Pattern KEY = Pattern.compile("[A-Za-z0-9_./:@-]{1,128}");
  static final Pattern TEXT = Pattern.compile("[^\\p{Cntrl}]{1,200}");
  static final Set<String> STATUSES = Set.of("running", "finished", "failed", "killed");

  private final Map<String, String> values;

  private Params(Map<String, String> values) {
    this.values = values;
  }

  static Params parse(String rawQuery) {
    Map<String, String> values = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return new Params(values);
    }
    if (rawQuery.length() > 4096) {
      throw new BadRequest("query string too long");
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (values.put(name, value) != null) {
        throw new BadRequest("parameter '" + printable(name) + "' given twice");
      }
    }
    return new Params(values);
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new BadRequest("malformed query string");
    }
  }

  Map<String, String> all() {
    return values;
  }

  /** Refuses parameters this endpoint does not know (catches typos such as ?mistake=1). */
  Params allowOnly(Set<String> names) {
    for (String name : values.keySet()) {
      if (!names.contains(name) && !name.equals("token")) {
        throw new BadRequest("unknown parameter '" + printable(name) + "'");
      }
    }
    return this;
  }

  String optional(String name, Pattern pattern) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (!pattern.matcher(v).matches()) {
      throw new BadRequest("invalid " + name + " '" + printable(v) + "'");
    }
    return v;
  }

  String required(String name, Pattern pattern) {
    String v = optional(name, pattern);
    if (v == null) {
      throw new BadRequest("missing parameter '" + name + "'");
    }
    return v;
  }

  String oneOf(String name, Set<String> allowed, String fallback) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    if (!allowed.contains(v)) {
      throw new BadRequest(name + " must be one of " + allowed + ", got '" + printable(v) + "'");
    }
    return v;
  }

  Integer optionalInt(String name, int min, int max) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      int i = Integer.parseInt(v);
      if (i < min || i > max) {
        throw new BadRequest(name + " must be in [" + min + ", " + max + "], got " + i);
      }
      return i;
    } catch (NumberFormatException e) {
      throw new BadRequest(name + " must be an integer, got '" + printable(v) + "'");
    }
  }

  int intOr(String name, int fallback, int min, int max) {
    Integer i = optionalInt(name, min, max);
    return i == null ? fallback : i;
  }

  boolean flag(String name) {
    String v = values.get(name);
    if (v == null || v.isEmpty() || v.equals("0") || v.equals("false")) {
      return false;
    }
    if (v.equals("1") || v.equals("true")) {
      return true;
    }
    throw new BadRequest(name + " must be 0 or 1, got '" + printable(v) + "'");
  }

  /** Shortens and strips control characters so an error message can quote user input safely. */
  static String printable(String s) {
    String t = s.length() > 60 ? s.substring(0, 60) + "..." : s;
    return t.replaceAll("\\p{Cntrl}", "?");
  }
}
