package dev.normlab.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A change of the test images' intensities, to see how a model takes inputs unlike its training
 * data: the photometric transforms of torchvision ({@code adjust_brightness}, {@code
 * adjust_contrast}, {@code invert}) and additive Gaussian noise, on pixels in [0, 1] before the
 * dataset's mean/std normalization, clipped to [0, 1] as torchvision clips.
 *
 * <p>Brightness below 1, contrast below 1 and inversion keep every pixel in [0, 1], so they are
 * exact affine maps of each image ({@code a x + b}, with {@code b} the image's own mean for
 * contrast) — the changes a model with Instance Norm after its first (unpadded) convolution cannot
 * see when {@code a > 0} (but for the norm's eps), since each of that convolution's channels moves
 * by its own {@code a y + b'} and the norm takes every channel's mean and scale away again.
 */
public record InputShift(Kind kind, double amount) {
  /** What a shift does to a pixel {@code x} of an image whose mean is {@code m}. */
  public enum Kind {
    /** {@code x} unchanged. */
    CLEAN,
    /** {@code amount * x} ({@code adjust_brightness}: below 1 darker, above 1 brighter). */
    BRIGHTNESS,
    /** {@code amount * x + (1 - amount) * m} ({@code adjust_contrast}: 0 is a grey image). */
    CONTRAST,
    /** {@code x + amount * z}, {@code z} standard normal, one draw per pixel. */
    NOISE,
    /** {@code 1 - x} ({@code invert}: white digits on black become black on white). */
    INVERT;

    String lower() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public InputShift {
    if (kind == null) {
      throw new IllegalArgumentException("kind must not be null");
    }
    boolean fixed = kind == Kind.CLEAN || kind == Kind.INVERT;
    if (!fixed && !(amount >= 0 && Double.isFinite(amount))) {
      throw new IllegalArgumentException(
          kind.lower() + " must be a finite number >= 0, got " + amount);
    }
    if (fixed) {
      amount = 0;
    }
  }

  public static final InputShift CLEAN = new InputShift(Kind.CLEAN, 0);

  /** The shifts a robustness test runs when none are named, as {@link #parseList} takes them. */
  public static final String DEFAULT_SPECS =
      "brightness=0.5,brightness=0.2,contrast=0.2,noise=0.5,invert";

  public static List<InputShift> defaults() {
    return parseList(DEFAULT_SPECS);
  }

  /**
   * {@code brightness=F}, {@code contrast=F}, {@code noise=SIGMA}, {@code invert} or {@code clean};
   * anything else is an error that lists them.
   */
  public static InputShift parse(String spec) {
    String s = spec.strip().toLowerCase(Locale.ROOT);
    int eq = s.indexOf('=');
    String name = eq < 0 ? s : s.substring(0, eq).strip();
    Kind kind;
    try {
      kind = Kind.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown shift '"
              + spec
              + "' (brightness=F, contrast=F, noise=SIGMA, invert or clean; e.g. brightness=0.5)");
    }
    boolean fixed = kind == Kind.CLEAN || kind == Kind.INVERT;
    if (fixed != (eq < 0)) {
      throw new IllegalArgumentException(
          fixed
              ? "shift '" + spec + "': " + name + " takes no value"
              : "shift '" + spec + "': give " + name + " a value, e.g. " + name + "=0.5");
    }
    if (fixed) {
      return new InputShift(kind, 0);
    }
    String value = s.substring(eq + 1).strip();
    try {
      return new InputShift(kind, Double.parseDouble(value));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("shift '" + spec + "': " + value + " is not a number");
    }
  }

  /** A comma-separated list of {@link #parse} specs, in order, repeats dropped. */
  public static List<InputShift> parseList(String specs) {
    List<InputShift> out = new ArrayList<>();
    for (String s : specs.split(",")) {
      if (s.isBlank()) {
        continue;
      }
      InputShift shift = parse(s);
      if (!out.contains(shift)) {
        out.add(shift);
      }
    }
    return out;
  }

  /** How it is written on the command line: {@code contrast=0.5}, {@code invert}. */
  public String spec() {
    return switch (kind) {
      case CLEAN, INVERT -> kind.lower();
      default -> kind.lower() + "=" + number(amount);
    };
  }

  /** As a metric key's last part: {@code contrast_0.5}, {@code invert}. */
  public String key() {
    return spec().replace('=', '_');
  }

  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
  }

  /**
   * The shift as a transform of pixels in [0, 1]; the noise draws from the loader's generator, so a
   * loader with the same seed draws the same noise.
   */
  public Transform transform() {
    float a = (float) amount;
    return switch (kind) {
      case CLEAN -> Transforms.identity();
      case BRIGHTNESS ->
          (px, off, r, c, rng) -> {
            for (int i = off, end = off + r * c; i < end; i++) {
              px[i] = clip(a * px[i]);
            }
          };
      case CONTRAST ->
          (px, off, r, c, rng) -> {
            int end = off + r * c;
            double sum = 0;
            for (int i = off; i < end; i++) {
              sum += px[i];
            }
            float mean = (float) (sum / (r * c));
            for (int i = off; i < end; i++) {
              px[i] = clip(a * px[i] + (1 - a) * mean);
            }
          };
      case NOISE ->
          (px, off, r, c, rng) -> {
            for (int i = off, end = off + r * c; i < end; i++) {
              px[i] = clip(px[i] + a * (float) rng.nextGaussian());
            }
          };
      case INVERT ->
          (px, off, r, c, rng) -> {
            for (int i = off, end = off + r * c; i < end; i++) {
              px[i] = 1 - px[i];
            }
          };
    };
  }

  private static float clip(float v) {
    return Math.min(1f, Math.max(0f, v));
  }

  @Override
  public String toString() {
    return spec();
  }
}
