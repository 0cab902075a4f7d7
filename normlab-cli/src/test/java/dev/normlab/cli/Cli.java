package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CLI in this JVM or in a child JVM and captures what it prints. */
final class Cli {
  private Cli() {}

  /** Exit code and everything printed to stdout and stderr. */
  record Result(int exit, String out, String err) {
    String all() {
      return out + err;
    }

    /** A user never sees a stack trace. */
    Result assertNoStackTrace() {
      assertFalse(all().contains("\tat "), "stack trace printed:\n" + all());
      assertFalse(all().contains("Exception in thread"), "uncaught exception:\n" + all());
      assertFalse(all().contains("Caused by:"), "stack trace printed:\n" + all());
      return this;
    }
  }

  /** {@code Main.run(args)} here, with System.out and System.err captured. */
  static synchronized Result inProcess(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setOut(o);
      System.setErr(e);
      int code = Main.run(args);
      o.flush();
      e.flush();
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * {@code command} ({@code compare} or {@code sweep}) over {@code norms} on 128 training and 64
   * test images, 2 threads, no warm-up, writing to {@code out}: a series of runs in seconds.
   */
  static Result smallSeries(String command, String norms, Path out, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                "--norms",
                norms,
                "--limit-train",
                "128",
                "--limit-test",
                "64",
                "--threads",
                "2",
                "--warmup-steps",
                "0",
                "--out",
                out.toString()));
    args.addAll(List.of(extra));
    args.addAll(TrackingCliTest.dataDirArgs());
    return inProcess(args.toArray(String[]::new)).assertNoStackTrace();
  }

  /** The command line of a child JVM running the CLI with this test's classpath. */
  static List<String> childCommand(List<String> jvmOptions, String... args) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("--add-modules");
    cmd.add("jdk.incubator.vector");
    cmd.add("--add-exports");
    cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
    cmd.add("-Dnormlab.poisonBuffers=" + Boolean.getBoolean("normlab.poisonBuffers"));
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts a child JVM; stdout and stderr go to files in {@code logDir}. */
  static Process start(Path logDir, String name, List<String> jvmOptions, String... args)
      throws IOException {
    Files.createDirectories(logDir);
    return new ProcessBuilder(childCommand(jvmOptions, args))
        .redirectOutput(logDir.resolve(name + ".out").toFile())
        .redirectError(logDir.resolve(name + ".err").toFile())
        .start();
  }

  /** Runs a child JVM to the end (at most 5 minutes). */
  static Result child(Path logDir, String name, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    Process p = start(logDir, name, jvmOptions, args);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(name + ": child JVM did not finish in 5 minutes");
    }
    return new Result(
        p.exitValue(),
        Files.readString(logDir.resolve(name + ".out")),
        Files.readString(logDir.resolve(name + ".err")));
  }

  /**
   * The shared MNIST ({@code ../shared/datasets} beside the repository; CI has it). Fails, not
   * skips, when it is missing.
   */
  static Path sharedDatasets() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.exists(d.resolve("mvnw")) && d.getParent() != null) {
        Path p = d.getParent().resolve("shared").resolve("datasets");
        if (Files.isDirectory(p.resolve("mnist"))) {
          return p;
        }
      }
    }
    assertTrue(false, "../shared/datasets/mnist beside the repository is needed by this test");
    return null;
  }
}
