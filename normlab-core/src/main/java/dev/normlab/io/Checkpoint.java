package dev.normlab.io;

import dev.normlab.nn.Module;
import dev.normlab.optim.Optimizer;
import dev.normlab.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint in a single safetensors file.
 *
 * <ul>
 *   <li>Tensors: the model's {@code stateDict()} under its PyTorch keys (e.g. {@code 0.weight},
 *       {@code 1.running_mean}) and the optimizer's state under {@code optimizer/state.<i>.<name>}.
 *   <li>Metadata: {@code format=pt}, {@code normlab.format}, {@code normlab.epoch}, {@code
 *       normlab.step}, {@code normlab.rng} (comma-separated longs), {@code normlab.loader} (the
 *       data loader's position), {@code normlab.config} (JSON), {@code normlab.optimizer} (class),
 *       {@code normlab.optimizer.param_groups} (JSON), any extra entries, and {@code
 *       normlab.sha256}, the SHA-256 of the file's data section, and {@code
 *       normlab.content_sha256}, the SHA-256 of everything (see {@link SafeTensors#contentSha256}):
 *       a flipped byte anywhere is detected.
 * </ul>
 *
 * <p>Files are written to a temp file and renamed into place. Loading refuses damaged files (bad
 * format, checksum mismatch) with a {@link CheckpointException} naming the file.
 */
public final class Checkpoint {
  /** Written by this version: {@link #CONTENT_SHA256_KEY} covers metadata and shapes too. */
  public static final String FORMAT = "normlab-checkpoint-v2";

  /** Still readable: only the data section is checksummed. */
  public static final String FORMAT_V1 = "normlab-checkpoint-v1";

  public static final String OPTIMIZER_PREFIX = "optimizer/";
  public static final String SHA256_KEY = "normlab.sha256";
  public static final String CONTENT_SHA256_KEY = "normlab.content_sha256";

  /** The run store's id of the run that wrote the checkpoint (absent when untracked). */
  public static final String RUN_ID_KEY = "normlab.run_id";

  /** The training position and settings saved with the tensors. Fields may be null / empty. */
  public record Info(
      long epoch,
      long step,
      long[] rngState,
      String loaderState,
      String configJson,
      Map<String, String> extra) {
    public Info {
      rngState = rngState == null ? null : rngState.clone();
      extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public Info(long epoch, long step) {
      this(epoch, step, null, null, null, null);
    }
  }

  private final Path file;
  private final Map<String, Tensor> model;
  private final Map<String, Tensor> optimizer;
  private final Map<String, String> metadata;
  private final Info info;

  private Checkpoint(
      Path file,
      Map<String, Tensor> model,
      Map<String, Tensor> optimizer,
      Map<String, String> metadata,
      Info info) {
    this.file = file;
    this.model = Collections.unmodifiableMap(model);
    this.optimizer = Collections.unmodifiableMap(optimizer);
    this.metadata = Collections.unmodifiableMap(metadata);
    this.info = info;
  }

  /** Saves the model's state dict, the optimizer's state (if not null) and {@code info}. */
  public static void save(Path file, Module model, Optimizer optimizer, Info info)
      throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>(model.stateDict());
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("normlab.format", FORMAT);
    meta.put("normlab.epoch", Long.toString(info.epoch()));
    meta.put("normlab.step", Long.toString(info.step()));
    if (info.rngState() != null) {
      meta.put("normlab.rng", joinLongs(info.rngState()));
    }
    if (info.loaderState() != null) {
      meta.put("normlab.loader", info.loaderState());
    }
    if (info.configJson() != null) {
      meta.put("normlab.config", info.configJson());
    }
    if (optimizer != null) {
      for (var e : optimizer.state().entrySet()) {
        tensors.put(OPTIMIZER_PREFIX + e.getKey(), e.getValue());
      }
      meta.put("normlab.optimizer", optimizer.getClass().getSimpleName());
      meta.put("normlab.optimizer.param_groups", optimizer.paramGroupsJson());
    }
    for (var e : info.extra().entrySet()) {
      if (meta.containsKey(e.getKey())
          || e.getKey().equals(SHA256_KEY)
          || e.getKey().equals(CONTENT_SHA256_KEY)) {
        throw new IllegalArgumentException("extra metadata key " + e.getKey() + " is reserved");
      }
      meta.put(e.getKey(), e.getValue());
    }
    SafeTensors.writeAtomically(
        file, SafeTensors.serialize(tensors, meta, SHA256_KEY, CONTENT_SHA256_KEY));
  }

  /** Reads and verifies a checkpoint. */
  public static Checkpoint load(Path file) throws IOException {
    SafeTensors.Contents c;
    try {
      c = SafeTensors.read(file);
    } catch (SafeTensorsException e) {
      throw new CheckpointException(
          file + ": damaged checkpoint, refusing to load it (" + e.getMessage() + ")", e);
    }
    Map<String, String> meta = c.metadata();
    String sum = meta.get(SHA256_KEY);
    String format = meta.get("normlab.format");
    if (sum == null || !(FORMAT.equals(format) || FORMAT_V1.equals(format))) {
      throw new CheckpointException(
          file
              + ": not a normlab checkpoint (no "
              + SHA256_KEY
              + " / normlab.format metadata; a plain safetensors file holds weights only)");
    }
    // exact match: the writer uses lower case, so even a changed letter case is damage
    if (!sum.equals(c.dataSha256())) {
      throw new CheckpointException(
          file
              + ": damaged checkpoint, refusing to load it: SHA-256 of the tensor data is "
              + c.dataSha256()
              + " but the checkpoint says "
              + sum);
    }
    if (FORMAT.equals(format)) {
      String content = meta.get(CONTENT_SHA256_KEY);
      String actual =
          SafeTensors.contentSha256(c.tensors(), meta, CONTENT_SHA256_KEY, c.dataSha256());
      if (content == null || !content.equals(actual)) {
        throw new CheckpointException(
            file
                + ": damaged checkpoint, refusing to load it: SHA-256 of its contents is "
                + actual
                + " but the checkpoint says "
                + content);
      }
    }
    Map<String, Tensor> model = new LinkedHashMap<>();
    Map<String, Tensor> opt = new LinkedHashMap<>();
    for (var e : c.tensors().entrySet()) {
      if (e.getKey().startsWith(OPTIMIZER_PREFIX)) {
        opt.put(e.getKey().substring(OPTIMIZER_PREFIX.length()), e.getValue());
      } else {
        model.put(e.getKey(), e.getValue());
      }
    }
    Info info;
    try {
      Map<String, String> extra = new LinkedHashMap<>();
      for (var e : meta.entrySet()) {
        if (!e.getKey().startsWith("normlab.") && !e.getKey().equals("format")) {
          extra.put(e.getKey(), e.getValue());
        }
      }
      info =
          new Info(
              Long.parseLong(meta.getOrDefault("normlab.epoch", "0")),
              Long.parseLong(meta.getOrDefault("normlab.step", "0")),
              meta.containsKey("normlab.rng") ? splitLongs(meta.get("normlab.rng")) : null,
              meta.get("normlab.loader"),
              meta.get("normlab.config"),
              extra);
    } catch (NumberFormatException e) {
      throw new CheckpointException(file + ": bad checkpoint metadata: " + e.getMessage(), e);
    }
    return new Checkpoint(file, model, opt, meta, info);
  }

  public Path file() {
    return file;
  }

  /** The model's tensors (state-dict keys). */
  public Map<String, Tensor> modelState() {
    return model;
  }

  /** The optimizer's state tensors ({@code state.<i>.<name>}), empty if none was saved. */
  public Map<String, Tensor> optimizerState() {
    return optimizer;
  }

  /** All metadata entries. */
  public Map<String, String> metadata() {
    return metadata;
  }

  public Info info() {
    return info;
  }

  /** The run store's id saved by the run that wrote this checkpoint, or null. */
  public String runId() {
    return metadata.get(RUN_ID_KEY);
  }

  /**
   * Copies the weights into {@code module}; with {@code strict}, missing and unexpected keys are
   * errors. Names, shapes and dtypes are checked and every mismatch reported.
   */
  public void restoreModel(Module module, boolean strict) throws CheckpointException {
    try {
      module.loadStateDict(model, strict);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(file + ": does not fit the model: " + e.getMessage(), e);
    }
  }

  /** Restores the optimizer's state tensors and param-group options. */
  public void restoreOptimizer(Optimizer opt) throws CheckpointException {
    String saved = metadata.get("normlab.optimizer");
    if (saved == null) {
      throw new CheckpointException(file + ": holds no optimizer state");
    }
    if (!saved.equals(opt.getClass().getSimpleName())) {
      throw new CheckpointException(
          file + ": holds " + saved + " state, cannot restore a " + opt.getClass().getSimpleName());
    }
    try {
      String groups = metadata.get("normlab.optimizer.param_groups");
      opt.loadState(optimizer);
      if (groups != null) {
        opt.loadParamGroupsJson(groups);
      }
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(file + ": does not fit the optimizer: " + e.getMessage(), e);
    }
  }

  static String joinLongs(long[] v) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(v[i]);
    }
    return sb.toString();
  }

  static long[] splitLongs(String s) {
    if (s.isEmpty()) {
      return new long[0];
    }
    String[] p = s.split(",");
    long[] out = new long[p.length];
    for (int i = 0; i < p.length; i++) {
      out[i] = Long.parseLong(p[i].trim());
    }
    return out;
  }
}
