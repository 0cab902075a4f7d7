package dev.normlab.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.functional.F;
import dev.normlab.testing.KeyedFixtures;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Tensor ops against PyTorch 1.13: broadcasting arithmetic, unary functions and activations,
 * reductions over any dims (negative ones too, with and without keepdim), matmul from 1-D by 1-D to
 * broadcast batches, and the view and copying ops — outputs, shapes and the gradients of both
 * inputs (summed over broadcast dims). Made by {@code scripts/fixtures/make_tensor_fixtures.py}.
 */
class TensorFixturesTest {
  private static final KeyedFixtures FX =
      KeyedFixtures.load("/fixtures/tensor/tensor_fixtures.txt");

  @Test
  void tensorOpsMatchPyTorch() {
    int cases = FX.ints("cases")[0];
    assertTrue(cases >= 100, "the fixture holds " + cases + " cases");
    Set<String> ops = new TreeSet<>();
    for (int c = 0; c < cases; c++) {
      String key = "c" + c;
      String op = FX.words(key + ".op")[0];
      ops.add(op);
      String[] ps = FX.words(key + ".params");
      double[] p =
          ps[0].equals("-")
              ? new double[0]
              : Arrays.stream(ps).mapToDouble(Double::parseDouble).toArray();
      int[] ip = Arrays.stream(p).mapToInt(v -> (int) v).toArray();
      String what = key + " " + op + " " + Arrays.toString(ps);
      Tensor a = input(key, "a");
      Tensor b = op.matches("add|sub|mul|div|pow|matmul|cat|stack") ? input(key, "b") : null;
      Tensor y =
          switch (op) {
            case "add" -> a.add(b);
            case "sub" -> a.sub(b);
            case "mul" -> a.mul(b);
            case "div" -> a.div(b);
            case "pow" -> a.pow(b);
            case "exp" -> a.exp();
            case "log" -> a.log();
            case "sqrt" -> a.sqrt();
            case "abs" -> a.abs();
            case "neg" -> a.neg();
            case "pow_scalar" -> a.pow((float) p[0]);
            case "clamp" -> a.clamp((float) p[0], (float) p[1]);
            case "sigmoid" -> F.sigmoid(a);
            case "tanh" -> F.tanh(a);
            case "gelu" -> F.gelu(a);
            case "relu" -> F.relu(a);
            case "leaky_relu" -> F.leakyRelu(a, (float) p[0]);
            case "sum" -> a.sum(Arrays.copyOfRange(ip, 1, ip.length), ip[0] == 1);
            case "mean" -> a.mean(Arrays.copyOfRange(ip, 1, ip.length), ip[0] == 1);
            case "var" -> a.var(Arrays.copyOfRange(ip, 2, ip.length), ip[1] == 1, ip[0] == 1);
            case "max" -> a.max(ip[0], ip[1] == 1);
            case "argmax" -> a.argmax(ip[0], ip[1] == 1);
            case "matmul" -> a.matmul(b);
            case "permute" -> a.permute(ip);
            case "transpose" -> a.transpose(ip[0], ip[1]);
            case "slice" -> a.slice(ip[0], ip[1], ip[2], ip[3]);
            case "select" -> a.select(ip[0], ip[1]);
            case "index_select" -> a.indexSelect(ip[0], Arrays.copyOfRange(ip, 1, ip.length));
            case "cat" -> Tensor.cat(ip[0], a, b);
            case "stack" -> Tensor.stack(ip[0], a, b);
            case "reshape" -> a.reshape(ip);
            default -> throw new IllegalStateException("unknown op " + op);
          };
      assertArrayEquals(shape(key + ".yshape"), y.shape(), what + ": output shape");
      close(FX.floats(key + ".y"), y.contiguous().data(), what + ": y");
      if (op.equals("argmax")) {
        continue;
      }
      y.backward(Tensor.of(FX.floats(key + ".dy"), y.shape()));
      close(FX.floats(key + ".da"), a.grad().data(), what + ": da");
      if (b != null) {
        close(FX.floats(key + ".db"), b.grad().data(), what + ": db");
      }
    }
    assertEquals(31, ops.size(), "ops covered: " + ops);
  }

  private static Tensor input(String key, String name) {
    return Tensor.of(FX.floats(key + "." + name), shape(key + "." + name + "shape"))
        .requiresGrad(true);
  }

  private static int[] shape(String key) {
    String[] s = FX.words(key);
    return s[0].equals("scalar")
        ? new int[0]
        : Arrays.stream(s).mapToInt(Integer::parseInt).toArray();
  }

  private static void close(float[] want, float[] got, String what) {
    KeyedFixtures.assertClose(want, got, 1e-5f, 2e-6f, what);
  }
}
