package dev.normlab.train;

import dev.normlab.data.MnistLike;
import dev.normlab.data.Transform;
import dev.normlab.data.Transforms;
import java.util.Map;

/**
 * Random augmentation of the training images, as torchvision's {@code RandomCrop(28, padding=p)}
 * and {@code RandomHorizontalFlip(p)} before {@code ToTensor} and {@code Normalize}: applied to the
 * raw pixels, so the padding is black (0), then normalized. The test images are never augmented.
 * The loader draws each image's crop and flip from its seed, the epoch and the batch, so a resumed
 * run sees the same augmentations.
 *
 * @param cropPadding pixels of padding around the image before cropping it back (0 = no crop)
 * @param flipProbability chance of mirroring an image left-right (0 = never; a mirrored digit is
 *     not always a digit, so this is for Fashion-MNIST rather than MNIST)
 */
public record Augmentation(int cropPadding, double flipProbability) {
  public static final Augmentation NONE = new Augmentation(0, 0);

  public Augmentation {
    if (cropPadding < 0) {
      throw new IllegalArgumentException("random-crop padding must be >= 0, got " + cropPadding);
    }
    if (!(flipProbability >= 0 && flipProbability <= 1)) {
      throw new IllegalArgumentException(
          "flip probability must be in [0, 1], got " + flipProbability);
    }
  }

  /** The training images' transform: the dataset's standard one, with the augmentation first. */
  public Transform trainTransform(MnistLike which) {
    Transform t = Transforms.toUnit();
    if (cropPadding > 0) {
      t = t.andThen(Transforms.randomCrop(cropPadding, 0f));
    }
    if (flipProbability > 0) {
      t = t.andThen(Transforms.randomHorizontalFlip(flipProbability));
    }
    return t.andThen(Transforms.normalize(which.mean(), which.std()));
  }

  void putInto(Map<String, Object> m) {
    m.put("random_crop", cropPadding);
    m.put("hflip", flipProbability);
  }
}
