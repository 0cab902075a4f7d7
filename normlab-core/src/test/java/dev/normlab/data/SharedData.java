package dev.normlab.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds {@code ../shared/datasets} beside the repository (present on developer machines and CI).
 */
public final class SharedData {
  private SharedData() {}

  /**
   * The shared datasets directory holding {@code dataset} (e.g. {@code mnist}); fails the test when
   * it is missing: the tests that need real data are never skipped.
   */
  public static Path require(String dataset) {
    Path shared = datasets().orElse(null);
    if (shared == null || !Files.isDirectory(shared.resolve(dataset))) {
      throw new AssertionError(
          "the shared datasets (../shared/datasets/" + dataset + ") are required");
    }
    return shared;
  }

  public static Optional<Path> datasets() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path parent = d.getParent();
      if (parent != null && Files.exists(d.resolve("mvnw"))) {
        Path p = parent.resolve("shared").resolve("datasets");
        if (Files.isDirectory(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }
}
