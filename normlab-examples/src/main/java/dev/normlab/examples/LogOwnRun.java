package dev.normlab.examples;

import dev.normlab.autograd.GradMode;
import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.track.store.Column;
import dev.normlab.track.store.GreyImage;
import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import dev.normlab.track.store.SummaryRule;
import dev.normlab.track.store.TableWriter;
import dev.normlab.train.Watch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Logs the training of {@link CustomGroupNormModel.GroupNormNet} to a run store. */
public final class LogOwnRun {
  private LogOwnRun() {}

  public static String run(Path storeFile, int steps) {
    Rng rng = new Rng(0);
    // doc:log-own-run begin
    CustomGroupNormModel.GroupNormNet model = new CustomGroupNormModel.GroupNormNet(4, rng);
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    Map<String, Object> config =
        Map.of("model", Map.of("name", "GroupNormNet", "groups", 4), "optim", Map.of("lr", 0.05));
    try (RunStore store = RunStore.open(storeFile); // e.g. normlab-runs/runs.db
        RunWriter run =
            store.newRun("gn-net-stripes").group("my-experiments").config(config).start()) {
      run.summaryRule("train/loss", SummaryRule.MIN);
      for (int step = 1; step <= steps; step++) {
        Tensor[] batch = CustomGroupNormModel.stripes(rng, 32);
        opt.zeroGrad();
        Tensor loss = F.crossEntropy(model.forward(batch[0]), batch[1]);
        loss.backward();
        opt.step();
        run.log("train/loss", step, loss.item()); // shows up live in `./normlab serve`
      }
      // a table, as wandb.Table: eight new images with the net's answers (the Tables tab)
      Tensor[] shown = CustomGroupNormModel.stripes(rng, 8);
      float[] probs;
      try (var noGrad = GradMode.noGrad()) {
        probs = F.softmax(model.forward(shown[0]), 1).toArray();
      }
      List<Column> columns =
          List.of(
              Column.image("image"),
              Column.number("label"),
              Column.number("predicted"),
              Column.probabilities("probs"));
      float[] labels = shown[1].toArray();
      try (TableWriter table = run.table("examples", columns)) {
        for (int i = 0; i < 8; i++) {
          float[] p = Arrays.copyOfRange(probs, 2 * i, 2 * i + 2);
          table.addRow(grey(shown[0], i), (int) labels[i], p[1] > p[0] ? 1 : 0, p);
        }
      }
      run.finish();
      return run.runId(); // the run's id in the store, e.g. 3f9a2c1b
    }
    // doc:log-own-run end
  }

  /** Image {@code i} of an (N, 1, H, W) batch as grey pixels, its lowest value black. */
  static GreyImage grey(Tensor images, int i) {
    int h = images.size(2);
    int w = images.size(3);
    float[] x = images.data(); // read in place: image i of the batch, not a copy of it all
    int at = i * h * w;
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int j = at; j < at + h * w; j++) {
      lo = Math.min(lo, x[j]);
      hi = Math.max(hi, x[j]);
    }
    byte[] px = new byte[h * w];
    for (int j = 0; j < px.length; j++) {
      px[j] = (byte) Math.round(hi > lo ? 255 * (x[at + j] - lo) / (hi - lo) : 0);
    }
    return new GreyImage(w, h, px);
  }

  /** The same run with --watch's statistics every tenth step, as {@code watch/...} metrics. */
  public static String runWatched(Path storeFile, int steps) {
    Rng rng = new Rng(0);
    CustomGroupNormModel.GroupNormNet model = new CustomGroupNormModel.GroupNormNet(4, rng);
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    try (RunStore store = RunStore.open(storeFile);
        RunWriter run = store.newRun("gn-net-watched").group("my-experiments").start()) {
      // doc:watch-own-run begin
      Watch watch = new Watch(model);
      for (int step = 1; step <= steps; step++) {
        Tensor[] batch = CustomGroupNormModel.stripes(rng, 32);
        boolean watched = step % 10 == 1; // steps 1, 11, 21, ...
        opt.zeroGrad();
        Tensor logits = model.forward(batch[0], watched ? watch : ActivationProbe.NONE);
        Tensor loss = F.crossEntropy(logits, batch[1]);
        loss.backward();
        if (watched) {
          watch.afterBackward(); // gradient norms; the weights before the step
        }
        opt.step();
        run.log("train/loss", step, loss.item());
        if (watched) { // weight norms and update ratios, and the activations' statistics
          long at = step;
          watch.afterStep().forEach((key, value) -> run.log(key, at, value));
        }
      }
      // doc:watch-own-run end
      run.finish();
      return run.runId();
    }
  }

  public static void main(String[] args) throws Exception {
    String id = run(Path.of(args.length > 0 ? args[0] : "normlab-runs/runs.db"), 80);
    System.out.println("logged run " + id + "; see it with ./normlab runs or ./normlab serve");
  }
}
