package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BufferScopeTest {
  private final int threadsBefore = Parallel.threads();

  @BeforeEach
  void emptyPool() {
    BufferScope.clearPool();
  }

  @AfterEach
  void restore() {
    BufferScope.clearPool();
    Parallel.setThreads(threadsBefore);
  }

  @Test
  void anArrayFromAClosedScopeIsHandedOutAgain() {
    float[] first;
    try (var s = BufferScope.open()) {
      first = Buffers.uninitialized(5000);
    }
    assertEquals(4L * 5000, BufferScope.pooledBytes());
    try (var s = BufferScope.open()) {
      assertNotSame(first, Buffers.uninitialized(4999), "another length is not reused");
      assertSame(first, Buffers.uninitialized(5000));
    }
  }

  @Test
  void outsideAScopeNothingIsPooledOrReused() {
    try (var s = BufferScope.open()) {
      Buffers.uninitialized(5000);
    }
    float[] a = Buffers.uninitialized(5000);
    float[] b = Buffers.uninitialized(5000);
    assertNotSame(a, b);
    assertEquals(4L * 5000, BufferScope.pooledBytes(), "the pooled array stays for a scope");
  }

  @Test
  void keptArraysAndLeafGradientsSurviveTheScope() {
    Tensor w = Tensor.randn(new Rng(1), 64, 64).requiresGrad(true);
    Tensor x = Tensor.randn(new Rng(2), 64, 64);
    Tensor y;
    float[] expectedGrad;
    try (var s = BufferScope.open()) {
      y = F.relu(F.linear(x, w, null)); // linear's weight gradient is a pooled array
      s.keep(y.data());
      y.sum().backward();
      expectedGrad = w.grad().data().clone();
    }
    float[] keptValues = y.data().clone();
    // the next scope allocates the same sizes; none of them may be the kept or escaped arrays
    try (var s = BufferScope.open()) {
      for (int i = 0; i < 8; i++) {
        float[] a = Buffers.uninitialized(64 * 64);
        assertNotSame(y.data(), a);
        assertNotSame(w.grad().data(), a);
        java.util.Arrays.fill(a, 7f);
      }
    }
    assertArrayEquals(keptValues, y.data());
    assertArrayEquals(expectedGrad, w.grad().data());
  }

  @Test
  void aTensorUsedAfterItsScopeReadsPoison() {
    assertTrue(Boolean.getBoolean("normlab.poisonBuffers"), "the test suite runs poisoned");
    Tensor y;
    try (var s = BufferScope.open()) {
      y = Tensor.randn(new Rng(3), 100, 100).mul(2f);
    }
    // the contract is broken on purpose: the poison makes that visible in a test
    assertTrue(Float.isNaN(y.data()[0]) && Float.isNaN(y.data()[9999]));
  }

  @Test
  void nestedScopesHandKeptArraysToTheOuterOne() {
    float[] inner;
    try (var outer = BufferScope.open()) {
      try (var s = BufferScope.open()) {
        inner = s.keep(Buffers.uninitialized(3000));
      }
      assertEquals(0, BufferScope.pooledBytes(), "kept by the inner scope");
    }
    assertEquals(4L * 3000, BufferScope.pooledBytes(), "returned by the outer scope");
    try (var s = BufferScope.open()) {
      assertSame(inner, Buffers.uninitialized(3000));
    }
  }

  @Test
  void anArrayRecycledTwiceIsHandedOutOnce() {
    float[] a = new float[2048];
    BufferScope.recycle(a);
    BufferScope.recycle(a);
    assertEquals(4L * 2048, BufferScope.pooledBytes());
    try (var s = BufferScope.open()) {
      assertSame(a, Buffers.uninitialized(2048));
      assertNotSame(a, Buffers.uninitialized(2048));
    }
  }

  @Test
  void thePoolKeepsToItsLimitDroppingTheOldestArrays() {
    long before = BufferScope.capBytes(4L * 10_000);
    try {
      float[] first = new float[4000], second = new float[4000], third = new float[4000];
      BufferScope.recycle(first);
      BufferScope.recycle(second);
      assertEquals(4L * 8000, BufferScope.pooledBytes());
      BufferScope.recycle(third); // 12,000 floats > the limit: the oldest goes
      assertEquals(4L * 8000, BufferScope.pooledBytes());
      try (var s = BufferScope.open()) {
        float[] a = Buffers.uninitialized(4000);
        float[] b = Buffers.uninitialized(4000);
        float[] c = Buffers.uninitialized(4000);
        assertSame(third, a, "newest first");
        assertSame(second, b);
        assertNotSame(first, c, "the dropped array is not handed out");
      }
    } finally {
      BufferScope.capBytes(before);
    }
  }

  @Test
  void anArrayNoOneTakesIsDroppedAfterTwoOutermostScopes() {
    float[] idle = new float[3000];
    float[] used = new float[5000];
    BufferScope.recycle(idle);
    BufferScope.recycle(used);
    for (int step = 0; step < BufferScope.IDLE_SCOPES; step++) {
      try (var s = BufferScope.open()) {
        assertSame(used, Buffers.uninitialized(5000), "step " + step);
        try (var inner = BufferScope.open()) {
          Buffers.uninitialized(7000); // nested scopes do not count
        }
      }
      assertEquals(4L * (3000 + 5000 + 7000), BufferScope.pooledBytes(), "step " + step);
    }
    try (var s = BufferScope.open()) {
      assertSame(used, Buffers.uninitialized(5000));
    }
    assertEquals(4L * (5000 + 7000), BufferScope.pooledBytes(), "the idle array is dropped");
    try (var s = BufferScope.open()) {
      assertNotSame(idle, Buffers.uninitialized(3000));
    }
  }

  /**
   * In steady training every array a step returns is taken again by the next one: gradients too
   * come from the pool, so none is dropped as idle and the pool stops growing after the first
   * steps.
   */
  @ParameterizedTest
  @EnumSource(ReferenceCnn.Norm.class)
  void trainingTakesBackEverythingItReturns(ReferenceCnn.Norm norm) {
    ReferenceCnn model = new ReferenceCnn(norm, new Rng(7));
    model.train();
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    Rng data = new Rng(11);
    long pooled = 0;
    long dropped = 0;
    for (int step = 0; step < 8; step++) {
      if (step == 3) {
        pooled = BufferScope.pooledBytes();
        dropped = BufferScope.dropped();
      }
      Tensor x = Tensor.randn(data, 8, 1, 28, 28);
      Tensor y = Tensor.randint(data, 0, 10, 8);
      try (var s = BufferScope.open()) {
        opt.zeroGradRecycling();
        F.crossEntropy(model.forward(x), y).backward();
        opt.step();
      }
    }
    assertEquals(pooled, BufferScope.pooledBytes(), norm + ": the pool grew");
    assertEquals(dropped, BufferScope.dropped(), norm + ": arrays were left idle");
  }

  @Test
  void closingOutOfOrderIsAnError() {
    var outer = BufferScope.open();
    var inner = BufferScope.open();
    IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
    assertTrue(e.getMessage().contains("out of order"), e.getMessage());
    inner.close();
    outer.close();
  }

  /**
   * The reference CNN trained in scopes, with the old gradients recycled every step, gives bitwise
   * the weights of training without: no array is reused while something still reads it (a reused
   * one would carry another op's values, or NaN from the poison, into the weights).
   */
  @ParameterizedTest
  @EnumSource(ReferenceCnn.Norm.class)
  void trainingInScopesGivesBitwiseTheSameWeights(ReferenceCnn.Norm norm) {
    Parallel.setThreads(2);
    Map<String, Tensor> plain = train(norm, false);
    Map<String, Tensor> scoped = train(norm, true);
    assertTrue(BufferScope.pooledBytes() > 0, "the scoped run pooled nothing");
    for (var e : plain.entrySet()) {
      assertArrayEquals(
          e.getValue().data(), scoped.get(e.getKey()).data(), norm + " " + e.getKey());
    }
  }

  private static Map<String, Tensor> train(ReferenceCnn.Norm norm, boolean scoped) {
    Rng rng = new Rng(7);
    ReferenceCnn model = new ReferenceCnn(norm, rng);
    model.train();
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    Rng data = new Rng(11);
    for (int step = 0; step < 6; step++) {
      Tensor x = Tensor.randn(data, 8, 1, 28, 28);
      Tensor y = Tensor.randint(data, 0, 10, 8);
      if (scoped) {
        try (var s = BufferScope.open()) {
          opt.zeroGradRecycling();
          F.crossEntropy(model.forward(x), y).backward();
          opt.step();
        }
      } else {
        opt.zeroGrad();
        F.crossEntropy(model.forward(x), y).backward();
        opt.step();
      }
    }
    return model.stateDict();
  }
}
