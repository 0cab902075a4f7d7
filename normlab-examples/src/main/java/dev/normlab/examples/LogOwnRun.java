package dev.normlab.examples;

import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import dev.normlab.track.store.SummaryRule;
import dev.normlab.train.Watch;
import java.nio.file.Path;
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
      run.finish();
      return run.runId(); // the run's id in the store, e.g. 3f9a2c1b
    }
    // doc:log-own-run end
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
