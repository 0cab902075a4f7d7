package dev.normlab.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.Trainer;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ProfilerTest {
  private static Map<String, Profiler.Entry> byKey(Profiler p) {
    return p.entries().stream().collect(Collectors.toMap(e -> e.module() + " / " + e.op(), e -> e));
  }

  @Test
  void eachOpsForwardAndBackwardIsTimedInItsModule() {
    Rng rng = new Rng(0);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.GROUP, rng);
    Tensor x = Tensor.randn(rng, 4, 1, 28, 28);
    Tensor y = Tensor.randint(rng, 0, 10, 4);
    long t0 = System.nanoTime();
    Profiler p;
    try (Profiler profiler = Profiler.start(Trainer.anomalyOwners(model))) {
      p = profiler;
      for (int step = 0; step < 2; step++) {
        model.zeroGrad();
        p.mark();
        F.crossEntropy(model.forward(x), y).backward();
      }
    }
    long wall = System.nanoTime() - t0;
    Map<String, Profiler.Entry> e = byKey(p);
    Profiler.Entry conv2 = e.get("conv2 (Conv2d) / conv2d");
    assertEquals(2, conv2.calls(), "once a step: " + e.keySet());
    assertTrue(conv2.forwardNanos() > 0 && conv2.backwardNanos() > 0, "" + conv2);
    assertEquals(2, e.get("norm2 (GroupNorm) / native_group_norm").calls());
    assertEquals(2, e.get("after norm2 (GroupNorm) / max_pool2d").calls(), "no parameter: after");
    Profiler.Entry grad = e.get("fc1 (Linear) / accumulate_grad");
    assertEquals(0, grad.calls());
    assertTrue(grad.backwardNanos() > 0);
    // most expensive first, and no more time than went by
    List<Profiler.Entry> all = p.entries();
    for (int i = 1; i < all.size(); i++) {
      assertTrue(all.get(i - 1).totalNanos() >= all.get(i).totalNanos());
    }
    long sum = all.stream().mapToLong(Profiler.Entry::totalNanos).sum();
    assertTrue(sum > 0 && sum <= wall, sum + " of " + wall);
    // closed: nothing more is timed, and the tape no longer asks
    assertNull(Profiler.active());
    F.crossEntropy(model.forward(x), y).backward();
    assertEquals(2, byKey(p).get("conv2 (Conv2d) / conv2d").calls());
  }

  @Test
  void aNestedProfilerHandsBackToTheOuterOne() {
    try (Profiler outer = Profiler.start(null)) {
      try (Profiler inner = Profiler.start(null)) {
        assertSame(inner, Profiler.active());
      }
      assertSame(outer, Profiler.active());
      Tensor a = Tensor.randn(new Rng(1), 3).requiresGrad(true);
      a.mul(a).sum().backward();
      assertTrue(outer.entries().stream().anyMatch(x -> x.module().equals("(no module)")));
    }
    assertNull(Profiler.active());
  }
}
