package dev.normlab.tensor;

import dev.normlab.autograd.Autograd;
import dev.normlab.autograd.Node;
import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Buffers;
import java.util.Arrays;

/**
 * A dense, contiguous, row-major float32 tensor of any rank, optionally tracked by autograd.
 *
 * <p>Storage is always a {@code float[]} of exactly {@link #numel()} elements starting at index 0.
 * View ops ({@link #reshape}, {@link #view}, {@link #flatten}, {@link #unsqueeze}, {@link
 * #squeeze}) share that array; every other op returns new storage. Ops that take part in autograd
 * record themselves through {@link Autograd#record}.
 */
public final class Tensor {
  private final float[] data;
  private final int[] shape;
  private final DType dtype;
  private boolean requiresGrad;
  private Tensor grad;
  private Node gradFn;

  private Tensor(float[] data, int[] shape, DType dtype) {
    this.data = data;
    this.shape = shape;
    this.dtype = dtype;
  }

  // ---------------------------------------------------------------- creation

  /** Wraps {@code data} (not copied) as a tensor of {@code shape}. */
  public static Tensor of(float[] data, int... shape) {
    int n = Shapes.numel(shape);
    if (data.length != n) {
      throw new IllegalArgumentException(
          "data has " + data.length + " elements but shape " + Shapes.str(shape) + " needs " + n);
    }
    return new Tensor(data, shape.clone(), DType.FLOAT32);
  }

  /** A 1-D tensor holding a copy of the values. */
  public static Tensor vector(float... values) {
    return of(values.clone(), values.length);
  }

  /** A 0-dim tensor. */
  public static Tensor scalar(float value) {
    return new Tensor(new float[] {value}, new int[0], DType.FLOAT32);
  }

  /** An INT64 tensor of whole numbers (class indices, counters). */
  public static Tensor ofInts(int[] values, int... shape) {
    int n = Shapes.numel(shape);
    if (values.length != n) {
      throw new IllegalArgumentException(
          "values has "
              + values.length
              + " elements but shape "
              + Shapes.str(shape)
              + " needs "
              + n);
    }
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = values[i];
    }
    return new Tensor(d, shape.clone(), DType.INT64);
  }

  /** A tensor of the given dtype wrapping {@code data}. */
  public static Tensor of(DType dtype, float[] data, int... shape) {
    Tensor t = of(data, shape);
    return dtype == DType.FLOAT32 ? t : new Tensor(t.data, t.shape, dtype);
  }

  public static Tensor zeros(int... shape) {
    return new Tensor(new float[Shapes.numel(shape)], shape.clone(), DType.FLOAT32);
  }

  public static Tensor ones(int... shape) {
    return full(1f, shape);
  }

  public static Tensor full(float value, int... shape) {
    float[] d = new float[Shapes.numel(shape)];
    Arrays.fill(d, value);
    return new Tensor(d, shape.clone(), DType.FLOAT32);
  }

  public static Tensor zerosLike(Tensor t) {
    return zeros(t.shape);
  }

  public static Tensor onesLike(Tensor t) {
    return ones(t.shape);
  }

  /** {@code [0, 1, ..., end-1]}. */
  public static Tensor arange(int end) {
    return arange(0, end, 1);
  }

  /** {@code start, start+step, ...} below {@code end}, like {@code torch.arange}. */
  public static Tensor arange(double start, double end, double step) {
    if (step == 0) {
      throw new IllegalArgumentException("step must be nonzero");
    }
    int n = (int) Math.max(0, Math.ceil((end - start) / step));
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = (float) (start + i * step);
    }
    return new Tensor(d, new int[] {n}, DType.FLOAT32);
  }

  /** Uniform in [0, 1). */
  public static Tensor rand(Rng rng, int... shape) {
    float[] d = new float[Shapes.numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = rng.nextFloat();
    }
    return new Tensor(d, shape.clone(), DType.FLOAT32);
  }

  /** Uniform in [low, high). */
  public static Tensor uniform(Rng rng, double low, double high, int... shape) {
    float[] d = new float[Shapes.numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = rng.nextFloat(low, high);
    }
    return new Tensor(d, shape.clone(), DType.FLOAT32);
  }

  /** Standard normal. */
  public static Tensor randn(Rng rng, int... shape) {
    float[] d = new float[Shapes.numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) rng.nextGaussian();
    }
    return new Tensor(d, shape.clone(), DType.FLOAT32);
  }

  /** Integers uniform in [low, high), as INT64. */
  public static Tensor randint(Rng rng, int low, int high, int... shape) {
    if (high <= low) {
      throw new IllegalArgumentException(
          "random_ expects 'from' to be less than 'to', but got from=" + low + " >= to=" + high);
    }
    float[] d = new float[Shapes.numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = low + rng.nextInt(high - low);
    }
    return new Tensor(d, shape.clone(), DType.INT64);
  }

  // ---------------------------------------------------------------- accessors

  /** The storage (row-major, contiguous). Writing to it bypasses autograd. */
  public float[] data() {
    return data;
  }

  public int[] shape() {
    return shape.clone();
  }

  /** The shape without a defensive copy; callers must not modify it. */
  int[] shapeRef() {
    return shape;
  }

  public int dim() {
    return shape.length;
  }

  /** Size along {@code d} (negative counts from the end). */
  public int size(int d) {
    return shape[Shapes.dim(d, shape.length)];
  }

  public int numel() {
    return data.length;
  }

  public DType dtype() {
    return dtype;
  }

  /** The single value of a one-element tensor. */
  public float item() {
    if (data.length != 1) {
      throw new IllegalArgumentException(
          "a Tensor with " + data.length + " elements cannot be converted to Scalar");
    }
    return data[0];
  }

  /** The element at a full index. */
  public float get(int... index) {
    return data[offset(index)];
  }

  /** Sets the element at a full index (bypasses autograd). */
  public void set(float value, int... index) {
    data[offset(index)] = value;
  }

  private int offset(int[] index) {
    if (index.length != shape.length) {
      throw new IllegalArgumentException(
          "index has " + index.length + " dims but tensor has shape " + Shapes.str(shape));
    }
    int off = 0;
    for (int i = 0; i < index.length; i++) {
      int ix = index[i] < 0 ? index[i] + shape[i] : index[i];
      if (ix < 0 || ix >= shape[i]) {
        throw new IndexOutOfBoundsException(
            "index "
                + index[i]
                + " is out of bounds for dimension "
                + i
                + " with size "
                + shape[i]);
      }
      off = off * shape[i] + ix;
    }
    return off;
  }

  /** A copy of the storage. */
  public float[] toArray() {
    return data.clone();
  }

  /** A new tensor with a copy of the data, not tracked by autograd. */
  public Tensor copy() {
    return new Tensor(data.clone(), shape, dtype);
  }

  /** The same values as {@code dtype} (INT64 conversion truncates toward zero). */
  public Tensor to(DType target) {
    if (target == dtype) {
      return this;
    }
    float[] d = data.clone();
    if (target == DType.INT64) {
      for (int i = 0; i < d.length; i++) {
        d[i] = (float) (long) d[i];
      }
    }
    return new Tensor(d, shape, target);
  }

  /** Copies {@code src}'s values into this tensor in place (shapes must match). */
  public Tensor copyFrom(Tensor src) {
    Shapes.check("copy_", shape, src.shape);
    System.arraycopy(src.data, 0, data, 0, data.length);
    return this;
  }

  /** Fills in place (bypasses autograd). */
  public Tensor fill(float value) {
    Arrays.fill(data, value);
    return this;
  }

  // ---------------------------------------------------------------- autograd

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** Marks a leaf as requiring grad; returns this. */
  public Tensor requiresGrad(boolean on) {
    if (gradFn != null && !on) {
      throw new IllegalStateException(
          "you can only change requires_grad flags of leaf variables. Use detach()");
    }
    if (on && dtype != DType.FLOAT32) {
      throw new IllegalArgumentException("only floating point tensors can require gradients");
    }
    requiresGrad = on;
    return this;
  }

  /** The accumulated gradient of a leaf, or null. */
  public Tensor grad() {
    return grad;
  }

  public void setGrad(Tensor g) {
    if (g != null) {
      Shapes.check("assigned grad", shape, g.shape);
      BufferScope.escape(g.data);
    }
    grad = g;
  }

  /** Sets the gradient to null, like {@code zero_grad(set_to_none=True)}. */
  public void zeroGrad() {
    grad = null;
  }

  /**
   * {@link #zeroGrad()} that also gives the old gradient's array to the {@link BufferScope} pool,
   * as PyTorch's caching allocator takes back a freed gradient. Only when nothing else holds that
   * gradient tensor.
   */
  public void zeroGradRecycling() {
    if (grad != null) {
      BufferScope.recycle(grad.data);
      grad = null;
    }
  }

  /** The op that produced this tensor, or null for a leaf. */
  public Node gradFn() {
    return gradFn;
  }

  public boolean isLeaf() {
    return gradFn == null;
  }

  /** Used by {@link Autograd#record}; not for general use. */
  public void attachGradFn(Node node) {
    this.gradFn = node;
    this.requiresGrad = true;
  }

  /**
   * Used by the autograd engine: adds into {@link #grad()}. When {@code owned} — no other tensor
   * shares g's storage — a first gradient is taken over instead of copied, as PyTorch's
   * AccumulateGrad steals an unshared gradient.
   */
  public void accumulateGrad(Tensor g, boolean owned) {
    if (grad == null) {
      float[] d = g.data;
      if (!owned) {
        // a pooled copy, so that zeroGradRecycling gives the pool an array it hands out again
        d = Buffers.uninitialized(g.data.length);
        System.arraycopy(g.data, 0, d, 0, d.length);
      }
      BufferScope.escape(d); // a gradient outlives the step that computed it
      grad = new Tensor(d, shape, DType.FLOAT32);
    } else {
      float[] a = grad.data;
      float[] b = g.data;
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
    }
  }

  /** Used by the autograd engine: {@code this + other} into fresh storage (no recording). */
  public Tensor addInPlaceFresh(Tensor other) {
    float[] r = data.clone();
    float[] b = other.data;
    for (int i = 0; i < r.length; i++) {
      r[i] += b[i];
    }
    return new Tensor(r, shape, DType.FLOAT32);
  }

  /** Back-propagates from a one-element tensor (seed 1). */
  public void backward() {
    if (data.length != 1) {
      throw new IllegalStateException(
          "grad can be implicitly created only for scalar outputs (got shape "
              + Shapes.str(shape)
              + ")");
    }
    Autograd.backward(this, onesLike(this), false);
  }

  /** Back-propagates with an explicit output gradient. */
  public void backward(Tensor gradOutput) {
    Autograd.backward(this, gradOutput, false);
  }

  public void backward(Tensor gradOutput, boolean retainGraph) {
    Autograd.backward(this, gradOutput, retainGraph);
  }

  /** The same storage, cut from the graph. */
  public Tensor detach() {
    return new Tensor(data, shape, dtype);
  }

  /** A tensor sharing storage with a new shape; package use by view ops. */
  Tensor withShape(int[] newShape) {
    return new Tensor(data, newShape, dtype);
  }

  static Tensor fresh(float[] data, int[] shape) {
    return new Tensor(data, shape, DType.FLOAT32);
  }

  // ---------------------------------------------------------------- elementwise

  public Tensor add(Tensor o) {
    return ElementwiseOps.add(this, o);
  }

  public Tensor add(float s) {
    return ElementwiseOps.addScalar(this, s);
  }

  public Tensor sub(Tensor o) {
    return ElementwiseOps.sub(this, o);
  }

  public Tensor sub(float s) {
    return ElementwiseOps.addScalar(this, -s);
  }

  public Tensor mul(Tensor o) {
    return ElementwiseOps.mul(this, o);
  }

  public Tensor mul(float s) {
    return ElementwiseOps.mulScalar(this, s);
  }

  public Tensor div(Tensor o) {
    return ElementwiseOps.div(this, o);
  }

  public Tensor div(float s) {
    return ElementwiseOps.mulScalar(this, 1f / s);
  }

  public Tensor neg() {
    return ElementwiseOps.mulScalar(this, -1f);
  }

  public Tensor exp() {
    return ElementwiseOps.exp(this);
  }

  public Tensor log() {
    return ElementwiseOps.log(this);
  }

  public Tensor sqrt() {
    return ElementwiseOps.sqrt(this);
  }

  public Tensor abs() {
    return ElementwiseOps.abs(this);
  }

  public Tensor pow(float exponent) {
    return ElementwiseOps.pow(this, exponent);
  }

  public Tensor pow(Tensor exponent) {
    return ElementwiseOps.pow(this, exponent);
  }

  /** Clamps into [min, max]; pass NaN for no bound on that side. */
  public Tensor clamp(float min, float max) {
    return ElementwiseOps.clamp(this, min, max);
  }

  public Tensor eq(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.EQ);
  }

  public Tensor ne(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.NE);
  }

  public Tensor lt(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.LT);
  }

  public Tensor le(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.LE);
  }

  public Tensor gt(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.GT);
  }

  public Tensor ge(Tensor o) {
    return ElementwiseOps.compare(this, o, ElementwiseOps.Cmp.GE);
  }

  // ---------------------------------------------------------------- reductions

  /** Sum of all elements (0-dim). */
  public Tensor sum() {
    return ReduceOps.sum(this, allDims(), false);
  }

  public Tensor sum(int[] dims, boolean keepdim) {
    return ReduceOps.sum(this, dims, keepdim);
  }

  public Tensor sum(int dim) {
    return ReduceOps.sum(this, new int[] {dim}, false);
  }

  public Tensor mean() {
    return ReduceOps.mean(this, allDims(), false);
  }

  public Tensor mean(int[] dims, boolean keepdim) {
    return ReduceOps.mean(this, dims, keepdim);
  }

  public Tensor mean(int dim) {
    return ReduceOps.mean(this, new int[] {dim}, false);
  }

  /** Variance; {@code unbiased} divides by n-1 (PyTorch's default). */
  public Tensor var(int[] dims, boolean unbiased, boolean keepdim) {
    return ReduceOps.var(this, dims, unbiased ? 1 : 0, keepdim);
  }

  public Tensor var() {
    return ReduceOps.var(this, allDims(), 1, false);
  }

  /** Maximum over {@code dim}; the gradient flows to the first maximal element. */
  public Tensor max(int dim, boolean keepdim) {
    return ReduceOps.max(this, dim, keepdim);
  }

  /** Maximum of all elements. */
  public Tensor max() {
    return ReduceOps.max(flatten(), 0, false);
  }

  /** Index of the first maximum along {@code dim}, as INT64. */
  public Tensor argmax(int dim, boolean keepdim) {
    return ReduceOps.argmax(this, dim, keepdim);
  }

  /** Index of the first maximum of the flattened tensor. */
  public Tensor argmax() {
    return ReduceOps.argmax(flatten(), 0, false);
  }

  int[] allDims() {
    int[] d = new int[shape.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = i;
    }
    return d;
  }

  // ---------------------------------------------------------------- shape

  /** A view with a new shape (one {@code -1} may be inferred). */
  public Tensor reshape(int... newShape) {
    return ShapeOps.reshape(this, Shapes.infer(newShape, data.length));
  }

  /** Same as {@link #reshape}: storage is always contiguous. */
  public Tensor view(int... newShape) {
    return reshape(newShape);
  }

  public Tensor flatten() {
    return reshape(data.length);
  }

  /** Flattens dims {@code start..end} (inclusive) into one. */
  public Tensor flatten(int start, int end) {
    if (shape.length == 0) {
      return reshape(1);
    }
    int s = Shapes.dim(start, shape.length);
    int e = Shapes.dim(end, shape.length);
    if (s > e) {
      throw new IllegalArgumentException(
          "flatten() has invalid args: start_dim cannot come after end_dim");
    }
    int[] ns = new int[shape.length - (e - s)];
    int j = 0;
    for (int i = 0; i < s; i++) {
      ns[j++] = shape[i];
    }
    int m = 1;
    for (int i = s; i <= e; i++) {
      m *= shape[i];
    }
    ns[j++] = m;
    for (int i = e + 1; i < shape.length; i++) {
      ns[j++] = shape[i];
    }
    return ShapeOps.reshape(this, ns);
  }

  public Tensor unsqueeze(int dim) {
    int d = Shapes.dim(dim, shape.length + 1);
    int[] ns = new int[shape.length + 1];
    for (int i = 0, j = 0; i < ns.length; i++) {
      ns[i] = i == d ? 1 : shape[j++];
    }
    return ShapeOps.reshape(this, ns);
  }

  /** Removes all size-1 dims. */
  public Tensor squeeze() {
    return ShapeOps.reshape(this, Arrays.stream(shape).filter(s -> s != 1).toArray());
  }

  /** Removes {@code dim} if its size is 1. */
  public Tensor squeeze(int dim) {
    int d = Shapes.dim(dim, shape.length);
    if (shape.length == 0 || shape[d] != 1) {
      return this;
    }
    int[] ns = new int[shape.length - 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (i != d) {
        ns[j++] = shape[i];
      }
    }
    return ShapeOps.reshape(this, ns);
  }

  public Tensor permute(int... dims) {
    return ShapeOps.permute(this, dims);
  }

  public Tensor transpose(int d0, int d1) {
    int a = Shapes.dim(d0, shape.length);
    int b = Shapes.dim(d1, shape.length);
    int[] p = allDims();
    p[a] = b;
    p[b] = a;
    return ShapeOps.permute(this, p);
  }

  /** Storage is always contiguous: returns this. */
  public Tensor contiguous() {
    return this;
  }

  /** Elements {@code start, start+step, ... < end} along {@code dim} (a copy). */
  public Tensor slice(int dim, int start, int end, int step) {
    return ShapeOps.slice(this, dim, start, end, step);
  }

  public Tensor slice(int dim, int start, int end) {
    return ShapeOps.slice(this, dim, start, end, 1);
  }

  /** The sub-tensor at {@code index} along {@code dim}, with that dim removed. */
  public Tensor select(int dim, int index) {
    int d = Shapes.dim(dim, shape.length);
    int i = index < 0 ? index + shape[d] : index;
    if (i < 0 || i >= shape[d]) {
      throw new IndexOutOfBoundsException(
          "index " + index + " is out of bounds for dimension " + d + " with size " + shape[d]);
    }
    return ShapeOps.slice(this, d, i, i + 1, 1).squeeze(d);
  }

  /** Gathers the given indices along {@code dim}, like {@code index_select}. */
  public Tensor indexSelect(int dim, int[] indices) {
    return ShapeOps.indexSelect(this, dim, indices);
  }

  public static Tensor cat(int dim, Tensor... tensors) {
    return ShapeOps.cat(dim, tensors);
  }

  public static Tensor stack(int dim, Tensor... tensors) {
    return ShapeOps.stack(dim, tensors);
  }

  // ---------------------------------------------------------------- linear algebra

  /** Matrix product with {@code torch.matmul}'s rules (1-D, 2-D and broadcast batched). */
  public Tensor matmul(Tensor o) {
    return MatOps.matmul(this, o);
  }

  // ---------------------------------------------------------------- printing

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("tensor(");
    if (data.length <= 64) {
      appendValues(sb, 0, 0);
    } else {
      sb.append("[... ").append(data.length).append(" values ...]");
    }
    if (shape.length != 1 || data.length > 64) {
      sb.append(", shape=").append(Shapes.str(shape));
    }
    if (dtype != DType.FLOAT32) {
      sb.append(", dtype=").append(dtype);
    }
    if (gradFn != null) {
      sb.append(", grad_fn=<").append(gradFn).append(">");
    } else if (requiresGrad) {
      sb.append(", requires_grad=True");
    }
    return sb.append(')').toString();
  }

  private int appendValues(StringBuilder sb, int d, int off) {
    if (d == shape.length) {
      float v = data[off];
      sb.append(dtype == DType.INT64 ? String.valueOf((long) v) : String.format("%.4f", v));
      return off + 1;
    }
    sb.append('[');
    for (int i = 0; i < shape[d]; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      off = appendValues(sb, d + 1, off);
    }
    sb.append(']');
    return off;
  }
}
