package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Checkpoint;
import dev.normlab.tensor.Tensor;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The issue's acceptance test: {@code normlab train} in a child JVM is killed with SIGKILL at a
 * random step after its first step checkpoint, then run again with {@code --resume} to the end; its
 * final weights (every tensor, bitwise), optimizer state and metrics equal those of an
 * uninterrupted run with the same seed and threads. {@code -Dnormlab.kill.rounds=N} kills and
 * resumes the same run N times (default 1), {@code -Dnormlab.kill.seed=S} picks other kill points.
 */
class ResumeAfterKillTest {
  @TempDir Path tmp;

  private static final List<String> JVM = List.of("-Xmx1g", "-XX:+UseSerialGC");

  private static String[] args(Path data, Path out, boolean resume) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "train",
                "--norm",
                "batch",
                "--threads",
                "1",
                "--seed",
                "3",
                "--limit-train",
                "704",
                "--limit-test",
                "128",
                "--epochs",
                "2",
                "--batch-size",
                "32",
                "--checkpoint-every",
                "3",
                "--name",
                "run",
                "--data-dir",
                data.toString(),
                "--out",
                out.toString()));
    if (resume) {
      a.add("--resume");
    }
    return a.toArray(String[]::new);
  }

  private Object seenVersion;
  private long seenStep = -1;

  /**
   * Step of the newest step checkpoint, or -1. Read (and verified) whenever it changed, while the
   * child keeps writing it: thanks to the atomic rename every read finds a whole, valid file.
   */
  private long stepCheckpoint(Path dir) {
    Path f = dir.resolve("step.safetensors");
    try {
      var attrs = Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class);
      Object version = attrs.fileKey() + "@" + attrs.lastModifiedTime();
      if (!version.equals(seenVersion)) {
        seenStep = Checkpoint.load(f).info().step();
        seenVersion = version;
        reads++;
      }
      return seenStep;
    } catch (java.nio.file.NoSuchFileException e) {
      return -1;
    } catch (java.io.IOException e) {
      throw new AssertionError("a step checkpoint read while training wrote it was damaged", e);
    }
  }

  private int reads;

  @Test
  void killedAndResumedRunEndsBitIdenticalToAnUninterruptedOne() throws Exception {
    Path data = Cli.sharedDatasets();
    int rounds = Integer.getInteger("normlab.kill.rounds", 1);
    long seed = Long.getLong("normlab.kill.seed", System.nanoTime());
    SplittableRandom random = new SplittableRandom(seed);
    System.out.println("kill/resume: seed " + seed + ", " + rounds + " kill(s)");

    Cli.Result ref =
        Cli.child(tmp.resolve("logs"), "reference", JVM, args(data, tmp.resolve("ref"), false));
    assertEquals(0, ref.exit(), ref.all());

    Path out = tmp.resolve("killed");
    Path dir = out.resolve("checkpoints").resolve("run");
    List<Long> killedAfter = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      // 44 steps in all (22 an epoch), step checkpoints at 3, 6, ..., 42: wait for a later one
      // than the run resumes from (among the first eight in round one), then kill within the next
      // 150 ms, a checkpoint interval or two. At least 20 steps and an evaluation are still to
      // run then, so the run cannot finish first (it did once, at 512 images and a 500 ms delay).
      long resumesFrom = Math.max(0, stepCheckpoint(dir));
      long room = (24 - resumesFrom) / 3;
      if (room < 1) {
        break; // too close to the end to be sure of killing it before it finishes
      }
      long target = resumesFrom + 3L * (1 + random.nextInt((int) room));
      Process p = Cli.start(tmp.resolve("logs"), "killed" + round, JVM, args(data, out, round > 0));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (stepCheckpoint(dir) < target) {
        assertTrue(
            p.isAlive(),
            "the run ended before step "
                + target
                + ": "
                + Files.readString(tmp.resolve("logs/killed" + round + ".err")));
        assertTrue(System.nanoTime() < deadline, "no step checkpoint " + target + " in 5 minutes");
        Thread.sleep(5);
      }
      Thread.sleep(random.nextInt(150));
      assertTrue(p.isAlive(), "the run must still be training when it is killed");
      p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
      assertTrue(p.waitFor(1, TimeUnit.MINUTES));
      assertEquals(137, p.exitValue(), "killed by SIGKILL");
      seenVersion = null;
      killedAfter.add(stepCheckpoint(dir));
    }
    // the store shows the killed run as killed (its writer's pid is gone) before it is resumed
    try (RunStore store = RunStore.open(out.resolve("runs.db"))) {
      List<RunQuery.RunInfo> runs = store.query().runs(RunQuery.Filter.all());
      assertEquals(1, runs.size(), runs.toString());
      assertEquals("killed", runs.get(0).status());
    }
    Cli.Result resumed = Cli.child(tmp.resolve("logs"), "resumed", JVM, args(data, out, true));
    assertEquals(0, resumed.exit(), resumed.all());
    System.out.println(
        "kill/resume: killed after step checkpoints "
            + killedAfter
            + "; resumed to the end; "
            + reads
            + " checkpoint reads during training, all valid");

    Checkpoint a = Checkpoint.load(tmp.resolve("ref/checkpoints/run/last.safetensors"));
    Checkpoint b = Checkpoint.load(dir.resolve("last.safetensors"));
    assertEquals(44, b.info().step());
    assertSameTensors(a.modelState(), b.modelState(), "weights");
    assertSameTensors(a.optimizerState(), b.optimizerState(), "optimizer state");
    assertEquals(
        withoutTimings(a.metadata().get("normlab.history")),
        withoutTimings(b.metadata().get("normlab.history")),
        "per-epoch metrics");
    assertEquals(finalLine(ref.out()), finalLine(resumed.out()));
    assertSameHistoryInStore(tmp.resolve("ref/runs.db"), out.resolve("runs.db"));
  }

  /**
   * The resumed run continued the killed one's history in the store: one run, finished, every step
   * of train/loss once (no gap, no duplicate), the same values as the uninterrupted run.
   */
  private static void assertSameHistoryInStore(Path refStore, Path resumedStore) {
    try (RunStore a = RunStore.open(refStore);
        RunStore b = RunStore.open(resumedStore)) {
      List<RunQuery.RunInfo> runs = b.query().runs(RunQuery.Filter.all());
      assertEquals(1, runs.size(), "the resumed run continues the killed one: " + runs);
      assertEquals("finished", runs.get(0).status());
      String refId = a.query().runs(RunQuery.Filter.all()).get(0).id();
      for (String key : List.of("train/loss", "test/accuracy")) {
        List<RunQuery.MetricPoint> x = a.query().history(refId, key);
        List<RunQuery.MetricPoint> y = b.query().history(runs.get(0).id(), key);
        assertEquals(
            x.stream().map(RunQuery.MetricPoint::step).toList(),
            y.stream().map(RunQuery.MetricPoint::step).toList(),
            key + ": steps after resume");
        assertEquals(
            x.stream().map(RunQuery.MetricPoint::value).toList(),
            y.stream().map(RunQuery.MetricPoint::value).toList(),
            key + ": values after resume");
      }
      assertEquals(44, b.query().history(runs.get(0).id(), "train/loss").size());
    }
  }

  private static void assertSameTensors(Map<String, Tensor> a, Map<String, Tensor> b, String what) {
    assertEquals(a.keySet(), b.keySet(), what);
    assertTrue(a.size() > 0, what);
    for (var e : a.entrySet()) {
      float[] x = e.getValue().data();
      float[] y = b.get(e.getKey()).data();
      assertEquals(x.length, y.length);
      for (int i = 0; i < x.length; i++) {
        if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
          throw new AssertionError(
              what
                  + ": "
                  + e.getKey()
                  + "["
                  + i
                  + "] is "
                  + y[i]
                  + " after resume, "
                  + x[i]
                  + " uninterrupted");
        }
      }
    }
  }

  /** The history without images/s and seconds (fields 5 and 6), which are wall-clock times. */
  private static List<List<String>> withoutTimings(String history) {
    List<List<String>> out = new ArrayList<>();
    for (String rec : history.split(";")) {
      List<String> f = new ArrayList<>(List.of(rec.split(",")));
      f.remove(6);
      f.remove(5);
      out.add(f);
    }
    assertEquals(2, out.size(), history);
    return out;
  }

  private static String finalLine(String out) {
    return out.lines()
        .filter(l -> l.startsWith("final:"))
        .map(l -> l.replaceAll("train time .*", ""))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no final line in:\n" + out));
  }
}
