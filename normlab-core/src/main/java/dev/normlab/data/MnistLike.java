package dev.normlab.data;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The 28x28 grey-scale datasets in the MNIST file layout: their folder name, file names, published
 * checksums, download mirrors, normalization constants and class names.
 */
public enum MnistLike {
  MNIST(
      "mnist",
      0.1307,
      0.3081,
      List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
      Map.of(
          "train-images-idx3-ubyte",
              "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
          "train-labels-idx1-ubyte",
              "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
          "t10k-images-idx3-ubyte",
              "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
          "t10k-labels-idx1-ubyte",
              "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
      List.of(
          URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"),
          URI.create("https://storage.googleapis.com/cvdf-datasets/mnist/"),
          URI.create("http://yann.lecun.com/exdb/mnist/"))),
  FASHION_MNIST(
      "fashion-mnist",
      0.2860,
      0.3530,
      List.of(
          "T-shirt/top",
          "Trouser",
          "Pullover",
          "Dress",
          "Coat",
          "Sandal",
          "Shirt",
          "Sneaker",
          "Bag",
          "Ankle boot"),
      Map.of(
          "train-images-idx3-ubyte",
              "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
          "train-labels-idx1-ubyte",
              "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
          "t10k-images-idx3-ubyte",
              "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
          "t10k-labels-idx1-ubyte",
              "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
      List.of(URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"))),
  /** Kuzushiji-MNIST. Its SHA-256 sums are not embedded: a SHA256SUMS file beside it is used. */
  KMNIST(
      "kmnist",
      0.1918,
      0.3483,
      List.of("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
      Map.of(),
      List.of(URI.create("http://codh.rois.ac.jp/kmnist/dataset/kmnist/")));

  /** The four files, without the {@code .gz} suffix. */
  public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";

  public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

  private final String dirName;
  private final double mean;
  private final double std;
  private final List<String> classes;
  private final Map<String, String> sha256;
  private final List<URI> mirrors;

  MnistLike(
      String dirName,
      double mean,
      double std,
      List<String> classes,
      Map<String, String> sha256,
      List<URI> mirrors) {
    this.dirName = dirName;
    this.mean = mean;
    this.std = std;
    this.classes = classes;
    this.sha256 = sha256;
    this.mirrors = mirrors;
  }

  /** The folder name under a datasets directory, e.g. {@code fashion-mnist}. */
  public String dirName() {
    return dirName;
  }

  /** Mean of the training pixels scaled to [0, 1]. */
  public double mean() {
    return mean;
  }

  /** Standard deviation of the training pixels scaled to [0, 1]. */
  public double std() {
    return std;
  }

  /** Class names, indexed by label. */
  public List<String> classes() {
    return classes;
  }

  /** Published SHA-256 of the decompressed file {@code base} (e.g. TRAIN_IMAGES), or null. */
  public String knownSha256(String base) {
    return sha256.get(base);
  }

  /** The official mirrors (base URLs, files are {@code <base><file>.gz}). */
  public List<URI> mirrors() {
    return mirrors;
  }

  /** The image and label file names of a split. */
  public List<String> files(boolean train) {
    return train ? List.of(TRAIN_IMAGES, TRAIN_LABELS) : List.of(TEST_IMAGES, TEST_LABELS);
  }

  /** All four file names. */
  public static List<String> allFiles() {
    return List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);
  }

  /**
   * Parses {@code mnist}, {@code fashion-mnist}/{@code fashion_mnist}/{@code fashion}, {@code
   * kmnist}.
   */
  public static MnistLike parse(String name) {
    String n = name.trim().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    return switch (n) {
      case "mnist" -> MNIST;
      case "fashion-mnist", "fashion", "fashionmnist" -> FASHION_MNIST;
      case "kmnist", "kuzushiji-mnist" -> KMNIST;
      default ->
          throw new IllegalArgumentException(
              "unknown dataset '" + name + "'; expected mnist, fashion-mnist or kmnist");
    };
  }
}
