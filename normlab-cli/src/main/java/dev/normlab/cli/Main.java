package dev.normlab.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code normlab} command. */
@Command(
    name = "normlab",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Normalization layers in pure Java: train, compare, track and report.",
    subcommands = {
      TrainCommand.class,
      CompareCommand.class,
      EvalCommand.class,
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
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          // A user gets one clear line; the stack trace only with NORMLAB_DEBUG=1.
          cmd.getErr().println("normlab " + cmd.getCommandName() + ": error: " + describe(ex));
          if ("1".equals(System.getenv("NORMLAB_DEBUG"))) {
            ex.printStackTrace(cmd.getErr());
          }
          return 1;
        });
    return cl.execute(args);
  }

  static String describe(Throwable ex) {
    String m = ex.getMessage();
    if (ex instanceof java.nio.file.NoSuchFileException) {
      return "no such file: " + m;
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
