package dev.normlab.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root (the directory with mvnw) and the shared datasets beside it. */
final class Repo {
  private Repo() {}

  static Path root() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.exists(d.resolve("mvnw")) && Files.isDirectory(d.resolve("normlab-core"))) {
        return d;
      }
    }
    throw new IllegalStateException(
        "not inside the normlab repository: " + Path.of("").toAbsolutePath());
  }

  /** {@code ../shared/datasets} beside the repository; the tests need it (CI has it too). */
  static Path datasets() {
    Path p = root().getParent().resolve("shared").resolve("datasets");
    if (!Files.isDirectory(p.resolve("mnist"))) {
      throw new IllegalStateException(
          "MNIST not found in " + p + " (the tests expect ../shared/datasets)");
    }
    return p;
  }
}
