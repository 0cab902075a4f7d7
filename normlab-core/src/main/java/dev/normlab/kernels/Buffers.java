package dev.normlab.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * Output arrays that a kernel overwrites completely, allocated without the JVM's zeroing pass.
 *
 * <p>{@code new float[n]} writes n zeros before the kernel writes n results; for a streaming op
 * such as a normalization's forward that extra pass costs about as much as the op (measured: a 1.4M
 * element scale-and-store 1.1 ms with zeroing, 0.6 ms without). The JDK's own {@code
 * jdk.internal.misc.Unsafe.allocateUninitializedArray}, which C2 compiles to an allocation without
 * the zeroing, is used when the JVM runs with {@code --add-exports
 * java.base/jdk.internal.misc=ALL-UNNAMED} (normlab's launchers pass it); otherwise this is a plain
 * {@code new float[n]}.
 *
 * <p>Only call {@link #uninitialized} for an array whose every element is written before anyone
 * reads it; an array that is summed into (a gradient) comes from {@link #zeroed}. Inside a {@link
 * BufferScope} both come from its pool. With the system property {@code normlab.poisonBuffers=true}
 * (set for the test suite) every such array starts filled with NaN, so an element a kernel forgets
 * to write shows up in any test that looks at it.
 */
public final class Buffers {
  static final boolean POISON = Boolean.getBoolean("normlab.poisonBuffers");
  private static final MethodHandle ALLOCATE = findAllocator();

  private Buffers() {}

  /**
   * A float array of length n whose contents are undefined: the caller must write all of it. Inside
   * a {@link BufferScope} it may be an array an earlier step used.
   */
  public static float[] uninitialized(int n) {
    float[] a = BufferScope.take(n);
    if (a == null) {
      a = allocate(n);
    }
    if (POISON) {
      Arrays.fill(a, Float.NaN);
    }
    return a;
  }

  /**
   * A float array of length n filled with zeros: {@code new float[n]}, except that inside a {@link
   * BufferScope} it comes from the pool. For gradients that are accumulated into: a leaf's gradient
   * is given back to the pool by {@link dev.normlab.tensor.Tensor#zeroGradRecycling}, and an array
   * the pool never hands out again would only sit in it.
   */
  public static float[] zeroed(int n) {
    float[] a = BufferScope.take(n);
    if (a == null) {
      return new float[n];
    }
    Arrays.fill(a, 0f);
    return a;
  }

  /** A new array of length n, unzeroed when the export allows it. */
  static float[] allocate(int n) {
    if (POISON || ALLOCATE == null || n < 1024) { // small arrays come zeroed from the TLAB
      return new float[n];
    }
    try {
      return (float[]) (Object) ALLOCATE.invokeExact((Class<?>) float.class, n);
    } catch (Error e) {
      throw e; // OutOfMemoryError must reach the launcher's "give Java more memory" message
    } catch (Throwable t) {
      throw new IllegalStateException("uninitialized allocation failed", t);
    }
  }

  /** True when arrays really come without zeroing (the package export is in effect). */
  public static boolean skipsZeroing() {
    return ALLOCATE != null;
  }

  private static MethodHandle findAllocator() {
    try {
      Class<?> unsafe = Class.forName("jdk.internal.misc.Unsafe");
      if (!unsafe.getModule().isExported(unsafe.getPackageName(), Buffers.class.getModule())) {
        return null;
      }
      Object instance = unsafe.getMethod("getUnsafe").invoke(null);
      MethodHandle h =
          MethodHandles.lookup()
              .findVirtual(
                  unsafe,
                  "allocateUninitializedArray",
                  MethodType.methodType(Object.class, Class.class, int.class))
              .bindTo(instance);
      // One call proves the export covers it (a missing one fails here, not in a kernel).
      float[] probe = (float[]) (Object) h.invokeExact((Class<?>) float.class, 1);
      return probe.length == 1 ? h : null;
    } catch (Throwable t) {
      return null;
    }
  }
}
