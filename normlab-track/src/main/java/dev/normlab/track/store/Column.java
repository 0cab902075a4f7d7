package dev.normlab.track.store;

import java.util.Objects;

/** A typed table column. */
public record Column(String name, ColumnType type) {
  public Column {
    Objects.requireNonNull(type, "type");
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a column needs a name");
    }
  }

  public static Column number(String name) {
    return new Column(name, ColumnType.NUMBER);
  }

  public static Column text(String name) {
    return new Column(name, ColumnType.TEXT);
  }

  public static Column image(String name) {
    return new Column(name, ColumnType.IMAGE);
  }

  public static Column probabilities(String name) {
    return new Column(name, ColumnType.PROBABILITIES);
  }
}
