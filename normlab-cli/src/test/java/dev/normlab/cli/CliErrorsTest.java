package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Checkpoint;
import dev.normlab.io.SafeTensors;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.tensor.Rng;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets one clear message and exit code 2 (usage) or 1 (runtime), never a stack trace. */
class CliErrorsTest {
  @TempDir Path tmp;

  private static Cli.Result usage(String expected, String... args) {
    Cli.Result r = Cli.inProcess(args).assertNoStackTrace();
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    assertTrue(r.err().lines().count() <= 3, "a short message, not the usage text:\n" + r.err());
    return r;
  }

  private static Cli.Result runtime(String expected, String... args) {
    Cli.Result r = Cli.inProcess(args).assertNoStackTrace();
    assertEquals(1, r.exit(), r.all());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    return r;
  }

  @Test
  void badOptionsAndValuesAreUsageErrors() {
    usage("Unknown option: '--bogus'", "train", "--bogus");
    usage("Try 'normlab train --help'", "train", "--bogus");
    usage("epochs must be >= 1, got -1", "train", "--epochs", "-1", "--no-track");
    usage(
        "unknown norm 'weird' (expected one of none, batch, instance, layer, group)",
        "train",
        "--norm",
        "weird",
        "--no-track");
    usage("Invalid value for option '--lr': 'abc' is not a double", "train", "--lr", "abc");
    usage("lr must be > 0, got -0.5", "train", "--lr", "-0.5", "--no-track");
    usage("lr must be finite, got Infinity", "train", "--lr", "Infinity", "--no-track");
    usage("batch size must be >= 1, got 0", "train", "--batch-size", "0", "--no-track");
    usage(
        "checkpoint-every must be >= 0, got -3", "train", "--checkpoint-every", "-3", "--no-track");
    usage(
        "--data-dir /nonexistent/normlab-data is not a directory",
        "train",
        "--data-dir",
        "/nonexistent/normlab-data",
        "--no-track");
    usage("give --checkpoint FILE or --run ID", "eval");
    usage("give --checkpoint FILE or --run ID", "eval", "--checkpoint", "a", "--run", "b");
    usage("--which must be best or last, got first", "eval", "--run", "b", "--which", "first");
    usage("name the runs: run ids, or --group", "robustness");
    usage("name the runs: run ids, or --group", "robustness", "ab12", "--group", "g");
    usage("unknown shift 'blur=2'", "robustness", "--group", "g", "--shifts", "blur=2");
    usage("--which must be best or last, got first", "robustness", "ab12", "--which", "first");
    usage("Unmatched argument at index 0: 'trian'", "trian");
    usage("unknown norm 'nope'", "compare", "--norms", "batch,nope", "--no-track");
    // An option of another optimizer or schedule is refused, not silently ignored.
    usage(
        "optimizer must be one of sgd, adam, adamw, got 'rmsprop'",
        "train",
        "--optimizer",
        "rmsprop",
        "--momentum",
        "0.5",
        "--no-track");
    usage(
        "--momentum does not apply to --optimizer adam",
        "train",
        "--optimizer",
        "adam",
        "--momentum",
        "0.5",
        "--no-track");
    usage(
        "--nesterov does not apply to --optimizer adamw",
        "train",
        "--optimizer",
        "adamw",
        "--nesterov");
    usage("--betas does not apply to --optimizer sgd", "compare", "--betas", "0.9,0.99");
    usage(
        "--betas takes two values, B1,B2 (e.g. 0.9,0.999), got '0.9,0.99,0.9'",
        "train",
        "--optimizer",
        "adam",
        "--betas",
        "0.9,0.99,0.9");
    usage(
        "--betas: '0.9,x' is not two numbers", "train", "--optimizer", "adam", "--betas", "0.9,x");
    usage("beta2 must be in [0, 1), got 1.5", "train", "--optimizer", "adam", "--betas", "0.9,1.5");
    usage(
        "nesterov needs a momentum > 0 and dampening 0",
        "train",
        "--nesterov",
        "--dampening",
        "0.1");
    usage("random-crop padding must be >= 0, got -2", "train", "--random-crop", "-2");
    usage("flip probability must be in [0, 1], got 2.0", "compare", "--hflip", "2");
    usage("--scheduler step needs --step-size", "train", "--scheduler", "step");
    usage("--gamma does not apply to --scheduler none", "train", "--gamma", "0.5");
    usage(
        "--t-max does not apply to --scheduler step",
        "train",
        "--scheduler",
        "step",
        "--step-size",
        "2",
        "--t-max",
        "3");
    usage(
        "scheduler must be one of none, step, cosine, got 'linear'",
        "train",
        "--scheduler",
        "linear");
    usage("--warmup-steps must be >= 0", "compare", "--warmup-steps", "-1", "--no-track");
    usage("unknown norm 'foo'", "bench", "--norms", "none,foo", "--steps", "1");
    usage(
        "unknown format 'xml' (csv or json)",
        "export",
        "--run",
        "r",
        "--format",
        "xml",
        "--out",
        "o");
  }

  @Test
  void badCheckpointsAreRuntimeErrorsNamingTheFile() throws Exception {
    Path missing = tmp.resolve("missing.safetensors");
    runtime("no such checkpoint: " + missing, "eval", "--checkpoint", missing.toString());
    Path folder = Files.createDirectories(tmp.resolve("run"));
    runtime(
        folder + " is a folder; pass one checkpoint file (it holds none)",
        "eval",
        "--checkpoint",
        folder.toString());
    Files.writeString(folder.resolve("last.safetensors"), "x");
    Files.writeString(folder.resolve("best.safetensors"), "x");
    runtime(
        "is a folder; pass one checkpoint file in it: best.safetensors, last.safetensors",
        "eval",
        "--checkpoint",
        folder.toString());

    Path text = tmp.resolve("notes.safetensors");
    Files.writeString(text, "these are not tensors\n");
    Cli.Result r = runtime(text + ": damaged checkpoint", "eval", "--checkpoint", text.toString());
    assertEquals(1, r.err().lines().count(), r.err());

    Path plain = tmp.resolve("plain.safetensors");
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, 8, new Rng(0));
    SafeTensors.write(plain, model.stateDict(), Map.of("format", "pt"));
    runtime(plain + ": not a normlab checkpoint", "eval", "--checkpoint", plain.toString());

    // Tensors of a LayerNorm model in a checkpoint that says "batch": wrong shapes, named.
    Path wrong = tmp.resolve("wrong.safetensors");
    ReferenceCnn layer = new ReferenceCnn(ReferenceCnn.Norm.LAYER, 8, new Rng(0));
    Checkpoint.save(
        wrong, layer, null, new Checkpoint.Info(1, 10, null, null, "{\"norm\":\"batch\"}", null));
    r = runtime(wrong + ": does not fit the model", "eval", "--checkpoint", wrong.toString());
    assertTrue(
        r.err()
            .contains(
                "size mismatch for norm1.weight: copying a param with shape [32, 26, 26] from"
                    + " checkpoint, the shape in current model is [32]"),
        r.err());
    assertTrue(r.err().contains("Missing key(s) in state_dict: \"norm1.running_mean\""), r.err());
  }

  @Test
  void damagedResumeCheckpointStopsTheRunBeforeTraining() throws Exception {
    Path data = Cli.sharedDatasets();
    Path dir = tmp.resolve("out").resolve("checkpoints").resolve("r");
    Files.createDirectories(dir);
    Path step = dir.resolve("step.safetensors");
    Files.write(step, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
    Cli.Result r =
        runtime(
            step + ": damaged checkpoint",
            "train",
            "--resume",
            "--no-track",
            "--name",
            "r",
            "--out",
            tmp.resolve("out").toString(),
            "--data-dir",
            data.toString(),
            "--limit-train",
            "64",
            "--limit-test",
            "16",
            "--epochs",
            "1",
            "--threads",
            "1");
    assertTrue(r.err().startsWith("normlab train: error: "), r.err());
    assertEquals(List.of(), r.out().lines().filter(l -> l.contains("epoch 1:")).toList());
  }
}
