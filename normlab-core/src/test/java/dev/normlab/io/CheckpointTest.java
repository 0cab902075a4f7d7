package dev.normlab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.Module;
import dev.normlab.optim.Adam;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.DType;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir Path tmp;

  /** A module with a weight, a bias, a float buffer and an INT64 counter, like a BatchNorm. */
  static final class Toy extends Module {
    final Tensor weight;
    final Tensor bias;

    Toy(int n, long seed) {
      Rng rng = new Rng(seed);
      weight = registerParameter("weight", Tensor.randn(rng, n, 2));
      bias = registerParameter("bias", Tensor.randn(rng, n));
      registerBuffer("running_mean", Tensor.randn(rng, n));
      registerBuffer("num_batches_tracked", longScalar(5));
    }

    @Override
    public Tensor forward(Tensor input) {
      return input;
    }
  }

  static final class Outer extends Module {
    Outer(int n, long seed) {
      registerModule("0", new Toy(n, seed));
      registerModule("bn", new Toy(n, seed + 1));
    }

    @Override
    public Tensor forward(Tensor input) {
      return input;
    }
  }

  private static void fakeGrads(Module m, float scale) {
    for (Tensor p : m.parameters()) {
      float[] g = new float[p.numel()];
      for (int i = 0; i < g.length; i++) {
        g[i] = scale * (i + 1);
      }
      p.setGrad(Tensor.of(g, p.shape()));
    }
  }

  @Test
  void saveLoadRestoresModelOptimizerAndInfo() throws Exception {
    Outer a = new Outer(3, 1);
    Adam opt = new Adam(a.parameters(), 0.01);
    fakeGrads(a, 0.1f);
    opt.step();
    opt.paramGroups().get(0).setLr(0.005);
    long[] rng = new Rng(9).state();
    Path f = tmp.resolve("ckpt").resolve("last.safetensors");
    Checkpoint.save(
        f,
        a,
        opt,
        new Checkpoint.Info(
            2, 1234, rng, "2,0,1,2,3,4,5,6", "{\"lr\": 0.01}", Map.of("note", "x")));
    try (var s = Files.list(f.getParent())) {
      assertEquals(1, s.count(), "no temp files remain");
    }

    Outer b = new Outer(3, 99);
    Adam opt2 = new Adam(b.parameters(), 0.01);
    Checkpoint c = Checkpoint.load(f);
    c.restoreModel(b, true);
    c.restoreOptimizer(opt2);
    assertEquals(a.stateDict().keySet(), b.stateDict().keySet());
    for (var e : a.stateDict().entrySet()) {
      assertArrayEquals(e.getValue().data(), b.stateDict().get(e.getKey()).data(), e.getKey());
    }
    assertEquals(DType.INT64, c.modelState().get("bn.num_batches_tracked").dtype());
    assertEquals(0.005, opt2.paramGroups().get(0).lr());
    assertEquals(opt.state().keySet(), opt2.state().keySet());
    assertEquals(2, c.info().epoch());
    assertEquals(1234, c.info().step());
    assertArrayEquals(rng, c.info().rngState());
    assertEquals("2,0,1,2,3,4,5,6", c.info().loaderState());
    assertEquals("{\"lr\": 0.01}", c.info().configJson());
    assertEquals("x", c.info().extra().get("note"));
    assertEquals("pt", c.metadata().get("format"));

    // Both continue identically.
    fakeGrads(a, 0.2f);
    fakeGrads(b, 0.2f);
    opt.step();
    opt2.step();
    for (var e : a.stateDict().entrySet()) {
      assertArrayEquals(e.getValue().data(), b.stateDict().get(e.getKey()).data(), e.getKey());
    }
  }

  @Test
  void damagedCheckpointsAreRefused() throws Exception {
    Outer a = new Outer(4, 1);
    Path f = tmp.resolve("c.safetensors");
    Checkpoint.save(f, a, null, new Checkpoint.Info(0, 0));
    byte[] good = Files.readAllBytes(f);
    // A flipped bit in the tensor data: the checksum catches it.
    byte[] bad = good.clone();
    bad[bad.length - 5] ^= 1;
    Files.write(f, bad);
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(f));
    assertTrue(e.getMessage().startsWith(f + ": damaged checkpoint"), e.getMessage());
    assertTrue(e.getMessage().contains("SHA-256 of the tensor data"), e.getMessage());
    // Truncated: the format check catches it.
    Files.write(f, java.util.Arrays.copyOf(good, good.length - 3));
    e = assertThrows(CheckpointException.class, () -> Checkpoint.load(f));
    assertTrue(e.getMessage().contains("damaged checkpoint"), e.getMessage());
    // A plain safetensors file is not a checkpoint.
    SafeTensors.write(f, a.stateDict(), Map.of());
    e = assertThrows(CheckpointException.class, () -> Checkpoint.load(f));
    assertTrue(e.getMessage().contains("not a normlab checkpoint"), e.getMessage());
  }

  @Test
  void mismatchesAreListed() throws Exception {
    Path f = tmp.resolve("c.safetensors");
    Checkpoint.save(
        f, new Outer(3, 1), new SGD(new Outer(3, 1).parameters(), 0.1), new Checkpoint.Info(0, 0));
    Checkpoint c = Checkpoint.load(f);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> c.restoreModel(new Outer(4, 1), true));
    assertTrue(e.getMessage().contains("size mismatch for 0.weight"), e.getMessage());
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    e = assertThrows(CheckpointException.class, () -> c.restoreModel(new Toy(3, 1), true));
    assertTrue(e.getMessage().contains("Missing key(s)"), e.getMessage());
    assertTrue(e.getMessage().contains("Unexpected key(s)"), e.getMessage());
    e =
        assertThrows(
            CheckpointException.class,
            () -> c.restoreOptimizer(new Adam(new Outer(3, 1).parameters(), 0.1)));
    assertTrue(e.getMessage().contains("holds SGD state"), e.getMessage());
  }
}
