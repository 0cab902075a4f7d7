package dev.normlab.cli;

import dev.normlab.track.store.StoreException;
import dev.normlab.track.system.RunEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/** The {@code normlab} command. */
@Command(
    name = "normlab",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Normalization layers in pure Java: train, compare, track and report.",
    subcommands = {
      TrainCommand.class,
      CompareCommand.class,
      SweepCommand.class,
      LrFindCommand.class,
      EvalCommand.class,
      RobustnessCommand.class,
      FeatureMapsCommand.class,
      SummaryCommand.class,
      BenchCommand.class,
      ServeCommand.class,
      ReportCommand.class,
      RunsCommand.class,
      ExportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing a command (see normlab --help)");
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (used by tests). */
  public static int run(String... args) {
    try {
      return execute(args);
    } catch (OutOfMemoryError e) {
      // Caught here, after the stack has unwound and the training data is garbage.
      long maxMb = Runtime.getRuntime().maxMemory() >> 20;
      System.err.println(
          "normlab: error: out of memory (Java heap limit "
              + maxMb
              + " MB). Give Java more memory, e.g. NORMLAB_JAVA_OPTS=-Xmx4g ./normlab ..., or use"
              + " a smaller --batch-size / --limit-train.");
      return 1;
    }
  }

  private static int execute(String... args) {
    // what each run's record shows as its command (env.command)
    System.setProperty(RunEnvironment.COMMAND_PROPERTY, commandLine(args));
    CommandLine cl = new CommandLine(new Main());
    LrFindCommand.hideTrainOnlyOptions(cl.getSubcommands().get("lr-find").getCommandSpec());
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          // One line and a pointer to --help, not the whole usage text.
          CommandLine cmd = ex.getCommandLine();
          String name = cmd.getCommandSpec().qualifiedName();
          cmd.getErr().println(name + ": " + ex.getMessage());
          if (!UnmatchedArgumentException.printSuggestions(ex, cmd.getErr())) {
            cmd.getErr().println("Try '" + name + " --help' for more information.");
          }
          cmd.getErr().flush();
          return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          // A user gets one clear line; the stack trace only with NORMLAB_DEBUG=1.
          cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + describe(ex));
          if ("1".equals(System.getenv("NORMLAB_DEBUG"))) {
            ex.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return 1;
        });
    return cl.execute(args);
  }

  /** {@code normlab} and the arguments, quoted for a shell where they need it. */
  static String commandLine(String... args) {
    StringBuilder sb = new StringBuilder("normlab");
    for (String a : args) {
      sb.append(' ').append(shellWord(a));
    }
    return sb.toString();
  }

  /** {@code a} as one word for a shell: as it is, or in single quotes where it needs them. */
  static String shellWord(String a) {
    return a.isEmpty() || !a.matches("[A-Za-z0-9_./:=,+@%-]+")
        ? "'" + a.replace("'", "'\\''") + "'"
        : a;
  }

  static String describe(Throwable ex) {
    String m = ex.getMessage();
    if (ex instanceof java.nio.file.NoSuchFileException) {
      return "no such file: " + m;
    }
    if (ex instanceof java.nio.file.AccessDeniedException) {
      return "permission denied: " + m;
    }
    if (ex instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      return m;
    }
    // StoreException: a missing, damaged or locked run store, the user's to fix
    if (ex instanceof RuntimeException
        && !(ex instanceof IllegalArgumentException)
        && !(ex instanceof IllegalStateException)
        && !(ex instanceof ArithmeticException)
        && !(ex instanceof java.io.UncheckedIOException)
        && !(ex instanceof StoreException)) {
      // A bug rather than bad input: say so, still without a stack trace.
      return "internal error: "
          + ex
          + " (run with NORMLAB_DEBUG=1 for the stack trace and report it)";
    }
    if (m == null || m.isBlank()) {
      return ex.getClass().getSimpleName();
    }
    return m;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"normlab " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
