package dev.normlab.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Where a float array's data lies relative to a vector boundary ({@link #BYTES}), so that a kernel
 * can start its rows in a scratch buffer on one: vector loads that straddle two cache lines cost
 * two, and HotSpot aligns objects to only 8 bytes, so an array's data starts on a 32-byte boundary
 * in one allocation of four (Winograd's weight-gradient dot products ran at 47 against 57 GFLOP/s
 * on one thread, depending on that alone).
 *
 * <p>The address comes from {@code jdk.internal.misc.Unsafe}, when the JVM exports it to us (as
 * {@link Buffers} uses it): a reference's slot read as an integer, decoded with the compressed-oop
 * shift found by allocating two small objects back to back. It is only ever a hint: a wrong or
 * stale answer (a collection may move the array at any time) costs speed, never correctness, and
 * without the export every offset is 0.
 */
final class Alignment {
  /**
   * The boundary aimed at: one vector of the preferred species, and at least 32 bytes (with
   * AVX-512's 64-byte vectors a 32-byte boundary left every other row's loads straddling lines).
   */
  static final int BYTES =
      Math.max(32, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorByteSize());

  /** Floats a buffer needs beyond its contents to be shifted onto a boundary. */
  static final int SLACK = BYTES / Float.BYTES;

  private static final MethodHandle GET_INT;
  private static final MethodHandle GET_LONG;
  private static final long OBJECT_BASE;
  private static final long FLOAT_BASE;
  private static final boolean COMPRESSED;

  /** The compressed-oop shift, or -1 when the address cannot be known. */
  private static final int SHIFT;

  static {
    MethodHandle getInt = null;
    MethodHandle getLong = null;
    long objectBase = 0;
    long floatBase = 0;
    boolean compressed = false;
    int shift = -1;
    try {
      Class<?> unsafe = Class.forName("jdk.internal.misc.Unsafe");
      if (unsafe.getModule().isExported(unsafe.getPackageName(), Alignment.class.getModule())) {
        Object u = unsafe.getMethod("getUnsafe").invoke(null);
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        getInt =
            lookup
                .findVirtual(
                    unsafe, "getInt", MethodType.methodType(int.class, Object.class, long.class))
                .bindTo(u);
        getLong =
            lookup
                .findVirtual(
                    unsafe, "getLong", MethodType.methodType(long.class, Object.class, long.class))
                .bindTo(u);
        // read once, reflectively: their return types differ between JDK releases (int, long)
        java.lang.reflect.Method baseOf = unsafe.getMethod("arrayBaseOffset", Class.class);
        java.lang.reflect.Method scaleOf = unsafe.getMethod("arrayIndexScale", Class.class);
        objectBase = ((Number) baseOf.invoke(u, Object[].class)).longValue();
        floatBase = ((Number) baseOf.invoke(u, float[].class)).longValue();
        long scale = ((Number) scaleOf.invoke(u, Object[].class)).longValue();
        compressed = scale == 4;
        shift = compressed ? shift(getInt, objectBase) : 0;
      }
    } catch (Throwable t) {
      shift = -1;
    }
    GET_INT = getInt;
    GET_LONG = getLong;
    OBJECT_BASE = objectBase;
    FLOAT_BASE = floatBase;
    COMPRESSED = compressed;
    SHIFT = shift;
  }

  /** Tests set this (0 to SLACK - 1) to make every offset that value; -1: the real ones. */
  static volatile int forced = -1;

  private Alignment() {}

  /**
   * The compressed-oop shift: two empty byte arrays (16 bytes each) allocated back to back are 16
   * bytes apart, so their references differ by 16 >> shift. Five pairs must agree.
   */
  private static int shift(MethodHandle getInt, long objectBase) throws Throwable {
    int found = -1;
    for (int i = 0; i < 5; i++) {
      Object[] pair = {new byte[0], new byte[0]};
      int a = (int) getInt.invokeExact((Object) pair, objectBase);
      int b = (int) getInt.invokeExact((Object) pair, objectBase + 4);
      int delta = b - a;
      int s = delta == 16 ? 0 : delta == 8 ? 1 : delta == 4 ? 2 : delta == 2 ? 3 : -1;
      if (s < 0 || (found >= 0 && s != found)) {
        return -1;
      }
      found = s;
    }
    return found;
  }

  /** Whether addresses are known (the export is in effect and the oop encoding was found). */
  static boolean known() {
    return SHIFT >= 0;
  }

  /**
   * The index in {@code a} (0 to {@link #SLACK} - 1) whose element starts on a {@link #BYTES}
   * boundary; 0 when addresses are not known.
   */
  static int offset(float[] a) {
    if (forced >= 0) {
      return forced;
    }
    long data = dataAddress(a);
    if (data < 0) {
      return 0;
    }
    int misalign = (int) (data & (BYTES - 1));
    return ((BYTES - misalign) & (BYTES - 1)) / Float.BYTES;
  }

  /**
   * The address of {@code a[0]}, exact in its low bits (a heap base, if any, is page-aligned and
   * left out); -1 when addresses are not known.
   */
  static long dataAddress(float[] a) {
    if (SHIFT < 0) {
      return -1;
    }
    Object[] holder = {a};
    long address;
    try {
      address =
          COMPRESSED
              ? ((int) GET_INT.invokeExact((Object) holder, OBJECT_BASE) & 0xFFFFFFFFL) << SHIFT
              : (long) GET_LONG.invokeExact((Object) holder, OBJECT_BASE);
    } catch (Throwable t) {
      return -1;
    }
    return address + FLOAT_BASE;
  }
}
