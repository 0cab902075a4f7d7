package dev.normlab.track.store;

import java.util.Locale;

/** The types a table column can have (stored in {@code tables.columns}). */
public enum ColumnType {
  /** A double (NaN and infinities are written as null). */
  NUMBER,
  TEXT,
  /** A grey image ({@link GreyImage}), stored as {"w":..,"h":..,"png":"<base64>"}. */
  IMAGE,
  /** Class probabilities: a float[] or double[], stored as a JSON array. */
  PROBABILITIES;

  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
