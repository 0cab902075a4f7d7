package dev.normlab.data;

import dev.normlab.tensor.Rng;

/**
 * An in-place per-image transform, applied by the {@link DataLoader} when it builds a batch. Random
 * transforms draw from the {@link Rng} they are given (the loader derives it from its seed, the
 * epoch and the batch index, so a resumed run sees the same augmentations).
 */
@FunctionalInterface
public interface Transform {
  /** Transforms the image of {@code rows x cols} pixels at {@code pixels[offset ..]} in place. */
  void apply(float[] pixels, int offset, int rows, int cols, Rng rng);

  /** This transform, then {@code next}. */
  default Transform andThen(Transform next) {
    return (px, off, r, c, rng) -> {
      apply(px, off, r, c, rng);
      next.apply(px, off, r, c, rng);
    };
  }
}
