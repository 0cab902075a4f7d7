package dev.normlab.track.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Describes a run before it starts: {@code store.newRun(name).group(g).config(c).start()}. */
public final class NewRun {
  final RunStore store;
  final String name;
  String group;
  final List<String> tags = new ArrayList<>();
  String notes;
  final Map<String, Object> config = new LinkedHashMap<>();

  NewRun(RunStore store, String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a run needs a name");
    }
    this.store = store;
    this.name = name;
  }

  public NewRun group(String g) {
    this.group = g;
    return this;
  }

  public NewRun tags(String... t) {
    for (String s : t) {
      if (s != null && !s.isBlank() && !tags.contains(s)) {
        tags.add(s);
      }
    }
    return this;
  }

  public NewRun tags(List<String> t) {
    return tags(t.toArray(String[]::new));
  }

  public NewRun notes(String n) {
    this.notes = n;
    return this;
  }

  /** The run's config, possibly nested; stored flattened to dotted keys. */
  public NewRun config(Map<String, ?> c) {
    config.putAll(c);
    return this;
  }

  /** Creates the run (status {@code running}) and returns its writer. */
  public RunWriter start() {
    return RunWriter.start(this);
  }
}
