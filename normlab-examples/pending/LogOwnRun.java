// PENDING: kept out of compilation on purpose (this folder is not a source root).
//
// This example logs a run of one's own model to the normlab run store. It is written against the
// store API that another branch is adding right now (dev.normlab.track.store.RunStore / RunWriter,
// see docs/tracking.md once merged). After the merge the lead should:
//   1. move this file to normlab-examples/src/main/java/dev/normlab/examples/LogOwnRun.java,
//   2. add normlab-track as a dependency of normlab-examples (pom.xml),
//   3. adapt the calls below to the merged API (names/arguments may differ),
//   4. add a test that runs it with a @TempDir store and checks the run, its metrics and its
//      summary are there (RunQuery), and add a `// doc:log-own-run` block to the guide.
package dev.normlab.examples;

import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.track.store.RunStore;
import dev.normlab.track.store.RunWriter;
import java.nio.file.Path;
import java.util.Map;

/** Logs the training of {@link CustomGroupNormModel.GroupNormNet} to a run store. */
public final class LogOwnRun {
  private LogOwnRun() {}

  public static String run(Path storeFile, int steps) throws Exception {
    Rng rng = new Rng(0);
    // doc:log-own-run begin
    CustomGroupNormModel.GroupNormNet model = new CustomGroupNormModel.GroupNormNet(4, rng);
    SGD opt = new SGD(model.parameters(), 0.05, 0.9);
    Map<String, Object> config =
        Map.of("model", Map.of("name", "GroupNormNet", "groups", 4), "optim", Map.of("lr", 0.05));
    try (RunStore store = RunStore.open(storeFile); // e.g. normlab-runs/runs.db
        RunWriter run = store.startRun("gn-net-stripes", "my-experiments", config)) {
      for (int step = 1; step <= steps; step++) {
        Tensor[] batch = CustomGroupNormModel.stripes(rng, 32);
        opt.zeroGrad();
        Tensor loss = F.crossEntropy(model.forward(batch[0]), batch[1]);
        loss.backward();
        opt.step();
        run.log("train/loss", step, loss.item()); // shows up live in `./normlab serve`
      }
      run.finish();
      // doc:log-own-run end
      return run.id();
    }
  }

  public static void main(String[] args) throws Exception {
    String id = run(Path.of(args.length > 0 ? args[0] : "normlab-runs/runs.db"), 80);
    System.out.println("logged run " + id + "; see it with ./normlab runs or ./normlab serve");
  }
}
