package dev.normlab.autograd;

import dev.normlab.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tape: ops attach a {@link Node} to their output with {@link #record}; {@link #backward} walks
 * the graph once in reverse topological order and accumulates gradients into the leaves.
 */
public final class Autograd {
  private Autograd() {}

  /**
   * Makes {@code output} the result of a differentiable op over {@code inputs}: when grad mode is
   * on and any input requires grad, the output requires grad and remembers the op. Returns {@code
   * output}.
   */
  public static Tensor record(String op, Tensor output, Backward backward, Tensor... inputs) {
    String module = null;
    if (Anomaly.checksForward()) {
      module = Anomaly.locate(inputs);
      Anomaly.checkForward(op, output, inputs, module);
    }
    if (!GradMode.isEnabled()) {
      return output;
    }
    Profiler profiler = Profiler.active();
    if (profiler != null) {
      String where = profiler.locate(inputs);
      profiler.forward(where, op);
      if (module == null) {
        module = where;
      }
    }
    boolean any = false;
    for (Tensor t : inputs) {
      if (t != null && t.requiresGrad()) {
        any = true;
        break;
      }
    }
    if (any) {
      output.attachGradFn(new Node(op, inputs.clone(), backward, module));
    }
    return output;
  }

  /**
   * True when op inputs need gradients, i.e. when an op should bother saving state for backward.
   */
  public static boolean needsGrad(Tensor... inputs) {
    if (!GradMode.isEnabled()) {
      return false;
    }
    for (Tensor t : inputs) {
      if (t != null && t.requiresGrad()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Back-propagates {@code gradOutput} (same shape as {@code root}) through the recorded graph,
   * adding into {@code grad()} of every leaf that requires grad. Frees the graph unless {@code
   * retainGraph}.
   */
  public static void backward(Tensor root, Tensor gradOutput, boolean retainGraph) {
    if (!root.requiresGrad()) {
      throw new IllegalStateException(
          "element 0 of tensors does not require grad and does not have a grad_fn");
    }
    if (!java.util.Arrays.equals(root.shape(), gradOutput.shape())) {
      throw new IllegalArgumentException(
          "Mismatch in shape: grad_output has shape "
              + java.util.Arrays.toString(gradOutput.shape())
              + " and output has shape "
              + java.util.Arrays.toString(root.shape()));
    }
    boolean anomaly = Anomaly.isEnabled();
    if (anomaly) {
      Anomaly.backwardPass(+1);
    }
    try {
      backwardWalk(root, gradOutput, retainGraph, anomaly);
    } finally {
      if (anomaly) {
        Anomaly.backwardPass(-1);
      }
    }
  }

  private static void backwardWalk(
      Tensor root, Tensor gradOutput, boolean retainGraph, boolean anomaly) {
    List<Tensor> order = topologicalOrder(root);
    Profiler profiler = Profiler.active();
    Map<Tensor, Tensor> grads = new IdentityHashMap<>();
    grads.put(root, gradOutput); // the caller's tensor: never owned
    // gradients whose storage nothing else shares: a leaf may take them over without a copy
    Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    try (var g = GradMode.noGrad()) {
      for (int i = order.size() - 1; i >= 0; i--) {
        Tensor t = order.get(i);
        Tensor grad = grads.remove(t);
        if (grad == null) {
          continue;
        }
        boolean gradOwned = owned.remove(grad);
        Node node = t.gradFn();
        if (node == null) {
          long t0 = profiler == null ? 0 : System.nanoTime();
          t.accumulateGrad(grad, gradOwned);
          if (profiler != null) {
            profiler.backward(profiler.moduleOf(t), "accumulate_grad", System.nanoTime() - t0);
          }
          continue;
        }
        if (node.released()) {
          throw new IllegalStateException(
              "Trying to backward through the graph a second time (or directly access saved tensors"
                  + " after they have already been freed). Saved intermediate values of the graph"
                  + " are freed when you call backward(). Specify retainGraph=true if you need to"
                  + " backward through the graph a second time. (op: "
                  + node.op()
                  + ")");
        }
        long t0 = profiler == null ? 0 : System.nanoTime();
        Tensor[] inputGrads =
            node.backward() instanceof InPlaceBackward inPlace
                ? inPlace.apply(grad, gradOwned)
                : node.backward().apply(grad);
        if (profiler != null) {
          String where = node.module() == null ? "(no module)" : node.module();
          profiler.backward(where, node.op(), System.nanoTime() - t0);
        }
        Tensor[] inputs = node.inputs();
        if (inputGrads.length != inputs.length) {
          throw new IllegalStateException(
              node.op()
                  + " backward returned "
                  + inputGrads.length
                  + " gradients for "
                  + inputs.length
                  + " inputs");
        }
        for (int k = 0; k < inputs.length; k++) {
          Tensor in = inputs[k];
          Tensor gi = inputGrads[k];
          if (in == null || gi == null || !in.requiresGrad()) {
            continue;
          }
          if (!java.util.Arrays.equals(in.shape(), gi.shape())) {
            throw new IllegalStateException(
                node.op()
                    + " backward produced gradient of shape "
                    + java.util.Arrays.toString(gi.shape())
                    + " for input "
                    + k
                    + " of shape "
                    + java.util.Arrays.toString(in.shape()));
          }
          if (anomaly) {
            Anomaly.checkGradient(node, k, gi);
          }
          Tensor prev = grads.get(in);
          if (prev == null) {
            grads.put(in, gi);
            if (unshared(gi, k, inputGrads, grad, gradOwned)) {
              owned.add(gi);
            }
          } else {
            owned.remove(prev);
            Tensor sum = prev.addInPlaceFresh(gi);
            grads.put(in, sum);
            owned.add(sum);
          }
        }
        if (!retainGraph) {
          node.release();
        }
      }
    }
  }

  /**
   * Whether gradient {@code gi} (for input k) shares its storage with nothing else: not with the
   * incoming gradient unless that one was itself unshared (a pass-through or a view of it), and not
   * with another input's gradient (an add passes the same tensor to both of its inputs).
   */
  private static boolean unshared(
      Tensor gi, int k, Tensor[] inputGrads, Tensor incoming, boolean incomingOwned) {
    if (gi.data() == incoming.data() && !incomingOwned) {
      return false;
    }
    for (int j = 0; j < inputGrads.length; j++) {
      if (j != k && inputGrads[j] != null && inputGrads[j].data() == gi.data()) {
        return false;
      }
    }
    return true;
  }

  private static List<Tensor> topologicalOrder(Tensor root) {
    List<Tensor> order = new ArrayList<>();
    Map<Tensor, Boolean> seen = new IdentityHashMap<>();
    // Iterative post-order DFS: deep graphs must not overflow the stack.
    ArrayDeque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {root, 0});
    seen.put(root, Boolean.TRUE);
    while (!stack.isEmpty()) {
      Object[] frame = stack.peek();
      Tensor t = (Tensor) frame[0];
      int next = (Integer) frame[1];
      Node node = t.gradFn();
      Tensor[] inputs = node == null ? new Tensor[0] : node.inputs();
      if (next < inputs.length) {
        frame[1] = next + 1;
        Tensor in = inputs[next];
        if (in != null && in.requiresGrad() && seen.put(in, Boolean.TRUE) == null) {
          stack.push(new Object[] {in, 0});
        }
      } else {
        stack.pop();
        order.add(t);
      }
    }
    return order;
  }
}
