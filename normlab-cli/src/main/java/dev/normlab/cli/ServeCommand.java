package dev.normlab.cli;

import dev.normlab.track.web.DashboardServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code normlab serve}: the dashboard over a run store, live while runs train. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the dashboard (runs, charts, parallel coordinates, predictions) over a run store.",
      "Binds 127.0.0.1 unless --host says otherwise; stop with Ctrl-C."
    })
final class ServeCommand implements Callable<Integer> {
  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only)")
  String host;

  @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--token",
      description = "require this token on every request (?token=, or header X-Normlab-Token)")
  String token;

  @Option(
      names = "--threads",
      defaultValue = "8",
      description = "request threads (default: ${DEFAULT-VALUE})")
  int threads;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(store)) {
      throw new IllegalArgumentException(
          "no run store at " + store + " (run train or compare first, or pass --store)");
    }
    DashboardServer server =
        DashboardServer.start(new DashboardServer.Options(store, host, port, token, threads));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    out.println(
        "normlab dashboard: " + server.url() + (token == null ? "" : "?token=<your token>"));
    out.println("store:             " + store.toAbsolutePath());
    if (!server.isLoopback()) {
      err.println(
          "warning: listening on "
              + host
              + ", reachable from other machines"
              + (token == null
                  ? "; anyone who reaches it can read every run. Use --token to require a token."
                  : "; requests need the token (sent in clear over HTTP)."));
    }
    out.flush();
    err.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    stopped.await();
    return 0;
  }
}
